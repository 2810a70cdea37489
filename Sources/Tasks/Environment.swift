import Sandbox

/// What an environment needs from the outside while it proposes and checks.
public struct TaskContext: Sendable {
    public var runner: ProgramRunner
    /// The self-play step, recorded in the triples it creates.
    public var step: Int
    /// How completions are read (strict is the paper's format).
    public var format: AnswerFormat.Mode

    public init(runner: ProgramRunner, step: Int = 0, format: AnswerFormat.Mode = .strict) {
        self.runner = runner
        self.step = step
        self.format = format
    }
}

/// What became of one proposer completion.
public enum ProposalOutcome: Sendable {
    case valid(Triple)
    case invalid(Invalid)

    public var triple: Triple? {
        if case let .valid(triple) = self { return triple }
        return nil
    }
}

/// How one solver answer was judged.
public enum SolveOutcome: Sendable, Equatable {
    case correct
    /// Well formed, but not right (or not runnable).
    case wrong(String)
    /// The answer's blocks could not be read.
    case malformed(String)

    public var isCorrect: Bool { self == .correct }
}

/// A task type of the gym. Deduction, abduction and induction conform; so can any new task type (see
/// examples/custom-task). An environment owns one buffer, named like itself.
///
/// The loop calls, per step: `proposerPrompt(references:)` with `referenceCount` triples drawn from
/// `referenceBuffers`; `propose(completion:references:context:)` on the model's answer, which validates in the
/// sandbox; `solverPrompt(for:)` on triples from its buffer; `check(completion:for:context:)` on answers.
public protocol Environment: Sendable {
    var name: String { get }
    /// The buffers the proposer's references come from (induction: deduction's and abduction's).
    var referenceBuffers: [String] { get }
    var referenceCount: Int { get }
    /// The triple every buffer of this type starts with.
    var seed: Triple { get }
    func proposerPrompt(references: [Triple]) -> String
    func propose(completion: String, references: [Triple], context: TaskContext) -> ProposalOutcome
    func solverPrompt(for triple: Triple) -> String
    func check(completion: String, for triple: Triple, context: TaskContext) -> SolveOutcome
    /// Where a solver's answer is whole, so sampling stops there (nil: at the end of turn or the token cap).
    var solverStop: AnswerStop? { get }
    /// Where a proposal is whole, so sampling stops there (nil: at the end of turn or the token cap).
    var proposerStop: AnswerStop? { get }
    /// A triple of this type as its solver sees the problem, without the answer (SGS shows unsolved targets to
    /// its conjecturer this way); nil (the default) when the type cannot state one.
    func statement(of triple: Triple) -> String?
    /// A proposer prompt for a task of this type that is simpler than, and helps with, a problem the solver has
    /// not solved yet (`statement`, from any type's `statement(of:)`). SGS's conjecturer asks it; nil (the
    /// default) when this type's proposals cannot be conjectured (induction's proposer needs a given program).
    func conjecturePrompt(for statement: String) -> String?
}

extension Environment {
    public var referenceBuffers: [String] { [name] }
    public var solverStop: AnswerStop? { nil }
    public var proposerStop: AnswerStop? { nil }
    public func statement(of triple: Triple) -> String? { nil }
    public func conjecturePrompt(for statement: String) -> String? { nil }
}

/// Task types by name. `standard` holds AZR's three; plug-ins register more.
public struct EnvironmentRegistry: Sendable {
    private(set) public var environments: [String: any Environment] = [:]
    private(set) public var names: [String] = []

    public init(_ environments: [any Environment] = []) {
        environments.forEach { register($0) }
    }

    public mutating func register(_ environment: any Environment) {
        if environments[environment.name] == nil { names.append(environment.name) }
        environments[environment.name] = environment
    }

    public subscript(name: String) -> (any Environment)? { environments[name] }

    public static var standard: EnvironmentRegistry {
        EnvironmentRegistry([DeductionTask(), AbductionTask(), InductionTask()])
    }
}
