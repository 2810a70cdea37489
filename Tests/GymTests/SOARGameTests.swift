import Foundation
@testable import Gym
import Sandbox
import Tasks
import Trainer
import XCTest

/// SOAR with a scripted teacher and scripted students: the teacher's reward is the students' measured gain on
/// the same hard problems and sampling seeds, leave-one-out over the step's batches; held-out hard problems
/// reach no trained prompt and no reward; the hard set's screening keeps what the base model never solved and is
/// read back on resume.
final class SOARGameTests: SandboxPoolTestCase {
    /// x + k on input k for k = 1…8: output 2k.
    static let problems = (1...8).map { k in
        Triple(type: "deduction", program: "def f(x):\n    return x + \(k)", input: "\(k)", output: "\(2 * k)")
    }

    static func candidates() throws -> SGSTargets {
        try SGSTargets(problems: problems, source: "file", file: "test", seed: 1, heldOutFraction: 0.5, count: 0)
    }

    /// The correct answer to a solver prompt about one of `problems` (x + k is unique: k < 10).
    static func rightAnswer(_ prompt: String) -> String? {
        (1...8).first { prompt.contains("return x + \($0)") }.map { "\(2 * $0)" }
    }

    /// Teacher batches of 2: batch 1 writes two valid problems, batch 2 one valid and one malformed.
    static func teacherAnswer(_ index: Int) -> String {
        [answer([("python", "def f(x):\n    return x * 2 + 100"), ("input", "1")]),
         answer([("python", "def f(x):\n    return x * 2 + 200"), ("input", "1")]),
         answer([("python", "def f(x):\n    return x * 2 + 300"), ("input", "1")]),
         "def f(x): return x"][index % 4]
    }

    /// Whether a scripted solver answers a hard-problem attempt with this seed correctly: the teacher's weights
    /// a quarter of the time, the student of batch 1 half, the student of batch 2 three quarters.
    static func skill(student: Int?, seed: UInt64) -> Bool {
        switch student {
        case nil: return seed % 4 == 0
        case 0?: return seed % 2 == 0
        default: return seed % 4 != 3
        }
    }

    /// Every request a policy saw, with who answered (nil: the teacher's weights; n: student n).
    final class Log {
        var requests: [(student: Int?, request: PolicyRequest)] = []
    }

    static func policy(student: Int?, log: Log) -> ScriptedPolicy {
        ScriptedPolicy { request, index in
            log.requests.append((student, request))
            switch request.role {
            case .teach: return teacherAnswer(index)
            case .solve:
                if request.prompt.contains("x * 2 + ") {
                    // Teacher problems: the student gets the first attempt of each right.
                    let m = ["100", "200", "300"].first { request.prompt.contains("x * 2 + \($0)") }!
                    return index % 2 == 0 ? answer([("output", "\(2 + Int(m)!)")]) : answer([("output", "0")])
                }
                guard let seed = request.samplingSeed, skill(student: student, seed: seed), let right = rightAnswer(request.prompt) else {
                    return answer([("output", "-1")])
                }
                return answer([("output", right)])
            default: return ""
            }
        }
    }

    /// Students whose answers follow `skill`; what each learned, and which one was kept.
    final class Lab: StudentLab {
        let log: Log
        var learned: [[TrainingRecord]] = []
        var kept: Int?
        var promotions = 0
        init(log: Log) { self.log = log }

        final class Pupil: Student {
            let index: Int
            let lab: Lab
            init(index: Int, lab: Lab) { self.index = index; self.lab = lab }
            var policy: Policy { SOARGameTests.policy(student: index, log: lab.log) }
            func learn(_ records: [TrainingRecord]) throws -> Double? {
                lab.learned[index] += records
                return 1
            }
            func end(keep: Bool) { if keep { lab.kept = index } }
        }

        func begin() throws -> any Student {
            learned.append([])
            return Pupil(index: learned.count - 1, lab: self)
        }

        func promoteAfterUpdate() throws -> Bool {
            guard kept != nil else { return false }
            promotions += 1
            kept = nil
            return true
        }

        var costSummary: String { "scripted students" }
    }

    func game(_ settings: SOARSettings, folder: URL? = nil) throws -> SOARGame {
        let play = try SelfPlay(registry: EnvironmentRegistry([DeductionTask()]), runner: ProgramRunner(pool: Self.pool), seed: 2)
        return try SOARGame(play: play, settings: settings, candidates: try Self.candidates(), hardCount: 3, heldOutCount: 2,
                            screenSamples: 2, screenLimit: 10, folder: folder, step: 0)
    }

    static func settings() -> SOARSettings {
        var settings = SOARSettings()
        settings.teacherBatches = 2
        settings.batchSize = 2
        settings.studentSteps = 2
        settings.studentAttempts = 2
        settings.hardSample = 3
        settings.hardSamples = 4
        settings.promoteGain = 0.1
        settings.heldOutEvalEvery = 1
        return settings
    }

    func testTheTeachersRewardIsTheStudentsMeasuredGainOnTheSameProblemsAndSeeds() throws {
        let log = Log(), lab = Lab(log: log)
        let game = try game(Self.settings())
        game.attach(students: lab)
        let candidates = try Self.candidates()
        game.hardSet = SOARHardSet(reward: candidates.targets, heldOut: candidates.heldOut, candidates: candidates)
        let result = try game.step(policy: Self.policy(student: nil, log: log))

        // Hard-problem measurements: scoring-only solve requests with a fixed seed.
        func measurement(_ student: Int?) -> [PolicyRequest] {
            log.requests.filter { $0.student == student && $0.request.samplingSeed != nil && !$0.request.prompt.contains("x * 2 + ") }
                .map(\.request).filter { $0.prompt.contains("return x + ") }
        }
        let heldOutPrograms = Set(candidates.heldOut.map(\.program))
        let before = measurement(nil).filter { request in !heldOutPrograms.contains { request.prompt.contains($0) } }
        XCTAssertEqual(before.count, 3 * 4, "3 hard problems × 4 seeded samples")
        XCTAssertTrue(before.allSatisfy { $0.scoringOnly })
        XCTAssertEqual(lab.learned.count, 2, "one student per batch with a valid problem")
        var gains: [Double] = []
        for student in 0..<2 {
            let after = measurement(student)
            XCTAssertEqual(after.map(\.prompt), before.map(\.prompt), "student \(student): the same problems")
            XCTAssertEqual(after.map(\.samplingSeed), before.map(\.samplingSeed), "student \(student): the same seeds")
            // The gain worked out from the seeds the requests carried.
            let right = after.filter { Self.skill(student: student, seed: $0.samplingSeed!) }.count
            let rightBefore = before.filter { Self.skill(student: nil, seed: $0.samplingSeed!) }.count
            gains.append(Double(right - rightBefore) / 12)
        }
        XCTAssertNotEqual(gains[0], gains[1], "the script gives the two students different gains")
        XCTAssertEqual(result.metrics.number("teacher_reward")!, (gains[0] + gains[1]) / 2, accuracy: 1e-12)
        XCTAssertEqual(result.metrics.number("student_gain_best")!, gains.max()!, accuracy: 1e-12)
        XCTAssertEqual(result.metrics.numbers("student_gain_by_batch"), ["batch 1": gains[0], "batch 2": gains[1]])

        // Teacher records: valid problems take their batch's leave-one-out advantage; the malformed one −1.
        let teacher = result.records.filter { $0.role == .teach }
        XCTAssertEqual(teacher.count, 4)
        XCTAssertEqual(teacher.map(\.reward), [gains[0] - gains[1], gains[0] - gains[1], gains[1] - gains[0], -1])
        // With three batches: 0.5 − (0.1 − 0.3)/2 = 0.6, 0.1 − (0.5 − 0.3)/2 = 0, −0.3 − (0.5 + 0.1)/2 = −0.6.
        XCTAssertTrue(zip(SOARSettings.leaveOneOut([0.5, 0.1, -0.3]), [0.6, 0, -0.6]).allSatisfy { abs($0 - $1) < 1e-12 },
                      "\(SOARSettings.leaveOneOut([0.5, 0.1, -0.3]))")
        XCTAssertTrue(result.records.allSatisfy { $0.role == .teach }, "the outer update trains the teacher only")

        // The students learned from their own batch only, with a per-problem baseline (right +½·…, wrong −…).
        XCTAssertEqual(lab.learned[0].count, 2 * 2 * 2, "2 updates × 2 problems × 2 attempts")
        XCTAssertTrue(lab.learned[0].allSatisfy { $0.prompt.contains("x * 2 + 100") || $0.prompt.contains("x * 2 + 200") })
        XCTAssertTrue(lab.learned[1].allSatisfy { $0.prompt.contains("x * 2 + 300") })
        for records in lab.learned {
            XCTAssertEqual(records.map(\.reward).reduce(0, +), 0, accuracy: 1e-12, "advantages sum to 0 per problem")
            XCTAssertTrue(records.contains { $0.reward > 0 } && records.contains { $0.reward < 0 })
        }
        // The best student is kept for promotion when its gain reaches promote_gain.
        let best = gains.firstIndex(of: gains.max()!)!
        XCTAssertEqual(lab.kept, gains.max()! >= 0.1 ? best : nil)
        XCTAssertEqual(result.metrics.number("promoted"), gains.max()! >= 0.1 ? 1 : 0)
        XCTAssertEqual(result.metrics.numbers("valid_rate")["deduction"], 0.75)
        XCTAssertNotNil(result.metrics.number("held_out_success_rate"))
        XCTAssertNotNil(result.seconds["student-update"])
        XCTAssertNotNil(result.seconds["measure-after"])
    }

    func testHeldOutHardProblemsNeverReachATrainedPromptOrAReward() throws {
        let log = Log(), lab = Lab(log: log)
        let folder = temporaryDirectory()
        let game = try game(Self.settings(), folder: folder)
        game.attach(students: lab)
        // Screening with a teacher that never answers a hard problem: every candidate screened is hard.
        let line = try XCTUnwrap(try game.prepare(policy: ScriptedPolicy { request, _ in
            log.requests.append((nil, request))
            return answer([("output", "-1")])
        }))
        XCTAssertTrue(line.contains("hard set: 3 problems"), line)
        let hard = try XCTUnwrap(game.hardSet)
        XCTAssertEqual(hard.reward.count, 3)
        XCTAssertEqual(hard.heldOut.count, 2)
        for _ in 0..<2 { _ = try game.step(policy: Self.policy(student: nil, log: log)) }

        let heldOut = hard.heldOut.map(\.program)
        let reward = hard.reward.map(\.program)
        for (student, request) in log.requests {
            let mentionsHeldOut = heldOut.contains { request.prompt.contains($0) }
            if mentionsHeldOut {
                XCTAssertTrue(request.scoringOnly && student == nil, "a held-out problem reached a trained or student prompt")
                let task = hard.heldOut.first { request.prompt.contains($0.program) }!
                let seeds = (0..<4).map { SeededAttempts.seed("held-out", task, $0) } + (0..<2).map { SeededAttempts.seed("screen", task, $0) }
                XCTAssertTrue(seeds.contains(request.samplingSeed ?? 0), "only the screening and the held-out measurement")
            }
            if request.role == .teach {
                XCTAssertFalse((heldOut + reward).contains { request.prompt.contains($0) }, "the teacher never sees a hard problem")
            }
            if !request.scoringOnly {
                XCTAssertFalse((heldOut + reward).contains { request.prompt.contains($0) }, "no hard problem is trained on")
            }
        }
        for records in lab.learned {
            XCTAssertFalse(records.contains { record in (heldOut + reward).contains { record.prompt.contains($0) } })
        }
        // The selection is recorded and read back by a resumed game; a different one is refused.
        let recorded = try XCTUnwrap(try SGSTargets.recorded(in: folder))
        XCTAssertEqual(recorded.targets, hard.reward.map(SGSTargets.key))
        XCTAssertEqual(recorded.held_out, hard.heldOut.map(SGSTargets.key))
        XCTAssertEqual(try self.game(Self.settings(), folder: folder).hardSet?.reward.map(\.program), reward)
        var changed = recorded
        changed.targets.append("deduction/unknown")
        try JSONEncoder().encode(changed).write(to: folder.appendingPathComponent("targets.json"))
        XCTAssertThrowsError(try self.game(Self.settings(), folder: folder)) { error in
            XCTAssertTrue("\(error)".contains("must not change within a run"), "\(error)")
        }
    }

    func testScreeningKeepsOnlyProblemsTheBaseModelNeverSolved() throws {
        let candidates = try Self.candidates()
        XCTAssertFalse(candidates.targets.isEmpty || candidates.heldOut.isEmpty, "the split puts problems on both sides")
        // The base model always solves x + 1 and x + 2, and x + 3 in one sample of two; never the others.
        let policy = ScriptedPolicy { request, index in
            let right = Self.rightAnswer(request.prompt)!
            if request.prompt.contains("return x + 1") || request.prompt.contains("return x + 2") { return answer([("output", right)]) }
            if request.prompt.contains("return x + 3"), index % 2 == 1 { return answer([("output", right)]) }
            return answer([("output", "-1")])
        }
        let attempts = SeededAttempts(registry: EnvironmentRegistry([DeductionTask()]), temperature: 1, samples: 2)
        let context = TaskContext(runner: ProgramRunner(pool: Self.pool), step: -1, format: .lenient)
        let (set, screened) = try SOARHardSet.screen(candidates: candidates, count: 8, heldOutCount: 8, limit: 8, attempts: attempts,
                                                     policy: policy, context: context)
        let solvedOnce = Set(["return x + 1", "return x + 2", "return x + 3"])
        XCTAssertEqual(Set((set.reward + set.heldOut).map(\.program)),
                       Set(Self.problems.map(\.program)).filter { program in !solvedOnce.contains { program.hasSuffix($0) } })
        XCTAssertEqual(screened.reward, candidates.targets.count)
        XCTAssertEqual(screened.heldOut, candidates.heldOut.count)
        XCTAssertEqual(Set(set.heldOut.map(\.program)).intersection(set.reward.map(\.program)), [], "the parts never share a program")
    }

    func testDiversityOfTeacherPrograms() {
        XCTAssertEqual(SOARGame.diversity(["def f(x): return x", "def f(x): return x"]), 0)
        XCTAssertEqual(SOARGame.diversity(["a b", "c d"]), 1)
        XCTAssertEqual(SOARGame.diversity(["a b", "a c"]), 1 - 1.0 / 3, accuracy: 1e-12)
    }
}
