/// How long a deduction or abduction proposal is asked to be, in the instruct style (the setting
/// `proposal_shape`; the `azr` style's prompts do not use it).
public enum ProposalShape: String, Codable, Sendable, CaseIterable {
    /// "A new short Python puzzle", after a one-line example. This is what `make experiment` measured on
    /// 2026-12-01. Qwen2.5-Coder-0.5B then writes one-line bodies: 31 of the 37 deduction tasks that 16-step run proposed
    /// had one, where CRUXEval's programs have a median of 4 lines.
    case short
    /// A function of four to eight lines that keeps state across a loop or branches on its values, after a
    /// six-line example: closer to the programs of CRUXEval. Measured in one full `make experiment` (10 steps) it
    /// learned less than `short` did: held-out +3.5 and CRUXEval-O +0.5 points, neither significant (README).
    case multiline
}
