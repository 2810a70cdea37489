/// Turns a batch's rewards into one advantage per sample. The trainer knows groups, never what they mean: a
/// game decides what a group is (AZR: task type × role; LSP: one query's answers, and the challenger's batch).
public protocol AdvantageEstimator: Sendable {
    /// One advantage per sample, in order; `lengths` are the completions' token counts.
    func advantages(rewards: [Double], groups: [String], lengths: [Int]) -> [Double]
}

/// The group-relative baseline without whitening (LSP, GRPO's baseline): reward − the mean reward of the
/// sample's group, each sample counted once. For LSP's solver, a group is one query's G answers, so the
/// baseline is V(q); for its challenger, the group is the batch's queries, so −V(q)'s baseline is −V̄ and the
/// advantage is V̄ − V(q).
public struct GroupMeanAdvantages: AdvantageEstimator {
    public init() {}

    public func advantages(rewards: [Double], groups: [String], lengths: [Int]) -> [Double] {
        precondition(rewards.count == groups.count && rewards.count == lengths.count)
        var sums: [String: (total: Double, count: Int)] = [:]
        for (reward, group) in zip(rewards, groups) {
            sums[group, default: (0, 0)].total += reward
            sums[group, default: (0, 0)].count += 1
        }
        return zip(rewards, groups).map { reward, group in
            let sum = sums[group]!
            return reward - sum.total / Double(sum.count)
        }
    }
}

/// The rewards are the advantages already: a game that computes its own baselines (SOAR's leave-one-out over
/// teacher batches, its student's per-problem baseline) passes them through unchanged.
public struct GivenAdvantages: AdvantageEstimator {
    public init() {}

    public func advantages(rewards: [Double], groups: [String], lengths: [Int]) -> [Double] { rewards }
}
