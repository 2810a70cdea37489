import Foundation
import Sandbox
import Tasks

/// Attempts at problems with fixed sampling seeds: the same problems, seeds and weights give the same answers, so
/// two measurements of different weights differ by the weights alone (SOAR's student before and after its inner
/// loop; the hard set's screening).
struct SeededAttempts {
    let registry: EnvironmentRegistry
    let temperature: Double
    let samples: Int

    /// The seed of attempt `sample` at `task` in measurement `label` (a step, "screen", "held-out").
    static func seed(_ label: String, _ task: Triple, _ sample: Int) -> UInt64 {
        StableHash.fnv1a64("\(label)\u{0}\(task.type)/\(task.id)\u{0}\(task.program)\u{0}\(task.input ?? "")\u{0}\(sample)")
    }

    /// Scoring-only requests for `samples` attempts at each task, in task order.
    func requests(_ tasks: [Triple], label: String) -> [PolicyRequest] {
        tasks.flatMap { task in
            (0..<samples).map { sample in
                PolicyRequest(prompt: registry[task.type]!.solverPrompt(for: task), role: .solve, taskType: task.type,
                              temperature: temperature, scoringOnly: true, stop: registry[task.type]!.solverStop,
                              samplingSeed: Self.seed(label, task, sample))
            }
        }
    }

    /// Correct attempts per task, judged in the sandbox.
    func successes(_ tasks: [Triple], label: String, policy: Policy, context: TaskContext) throws -> [Int] {
        guard !tasks.isEmpty else { return [] }
        let requests = requests(tasks, label: label)
        let answers = try policy.complete(requests)
        let correct = concurrentMap(requests.indices) { index in
            registry[tasks[index / samples].type]!.check(completion: answers[index], for: tasks[index / samples], context: context).isCorrect
        }
        return tasks.indices.map { task in (0..<samples).filter { correct[task * samples + $0] }.count }
    }
}

/// SOAR's hard problems: problems with a verifiable check on which the starting model succeeds in none of k seeded
/// samples. Candidates come split like SGS's targets (by program, so a held-out program is never seen through
/// another problem); screening keeps the first `count` zero-success problems of the playable part — the ones whose
/// measured gains reward the teacher — and the first `heldOutCount` of the held-out part, used only to measure. The
/// screening's requests are scoring-only; afterwards held-out problems reach no prompt but the held-out
/// measurement's, also scoring-only. The selection is recorded as the run's targets.json (so `azr experiment`
/// reports both parts as it does SGS's targets) and read back on resume.
public struct SOARHardSet: Sendable {
    /// The problems whose gains reward the teacher.
    public let reward: [Triple]
    /// Problems only measured, never used for a reward.
    public let heldOut: [Triple]
    public let selection: SGSTargets.Selection

    init(reward: [Triple], heldOut: [Triple], candidates: SGSTargets) {
        self.reward = reward
        self.heldOut = heldOut
        var selection = candidates.selection
        selection.targets = reward.map(SGSTargets.key)
        selection.held_out = heldOut.map(SGSTargets.key)
        self.selection = selection
    }

    /// The hard set a run recorded, from the same candidates.
    public init(recorded: SGSTargets.Selection, candidates: SGSTargets) throws {
        let all = Dictionary((candidates.targets + candidates.heldOut).map { (SGSTargets.key($0), $0) }, uniquingKeysWith: { a, _ in a })
        func find(_ keys: [String]) throws -> [Triple] {
            try keys.map { key in
                guard let triple = all[key] else {
                    throw SGSTargets.TargetError.changed("targets.json names \(key), which the dataset no longer has; the hard set must not change within a run")
                }
                return triple
            }
        }
        self.init(reward: try find(recorded.targets), heldOut: try find(recorded.held_out), candidates: candidates)
        guard selection == recorded else {
            throw SGSTargets.TargetError.changed("targets.json records another candidate split than this run's settings and dataset give; the hard set must not change within a run")
        }
    }

    /// Screens candidates in order, `batch` at a time, until each part has its count or `limit` of its candidates
    /// were tried. Returns the set and how many candidates of each part were screened.
    static func screen(candidates: SGSTargets, count: Int, heldOutCount: Int, limit: Int, attempts: SeededAttempts,
                       policy: Policy, context: TaskContext, progress: ((Int, Int) -> Void)? = nil) throws
        -> (set: SOARHardSet, screened: (reward: Int, heldOut: Int)) {
        func zeroSuccess(_ pool: [Triple], wanted: Int) throws -> ([Triple], Int) {
            var found: [Triple] = [], tried = 0
            let pool = Array(pool.prefix(limit))
            while found.count < wanted, tried < pool.count {
                // Screen a little more than is still missing: most base models solve part of any batch.
                let chunk = Array(pool[tried..<min(pool.count, tried + max(8, 2 * (wanted - found.count)))])
                let counts = try attempts.successes(chunk, label: "screen", policy: policy, context: context)
                for (task, successes) in zip(chunk, counts) where successes == 0 && found.count < wanted { found.append(task) }
                tried += chunk.count
                progress?(found.count, tried)
            }
            return (found, tried)
        }
        let (reward, triedReward) = try zeroSuccess(candidates.targets, wanted: count)
        let (heldOut, triedHeldOut) = try zeroSuccess(candidates.heldOut, wanted: heldOutCount)
        return (SOARHardSet(reward: reward, heldOut: heldOut, candidates: candidates), (triedReward, triedHeldOut))
    }
}
