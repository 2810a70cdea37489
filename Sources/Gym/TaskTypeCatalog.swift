import Foundation
import Tasks

/// Task types a run's config may name in `task_types`, each built from the config (K, N, prompt style).
/// AZR's three are always here; a plug-in registers its own before the run is opened — the CLI registers
/// examples/custom-task's `exception` this way, so `--set 'task_types=["deduction","exception"]'` trains it.
public enum TaskTypeCatalog {
    public typealias Factory = @Sendable (TrainingConfig) -> any Environment

    private static let lock = NSLock()
    nonisolated(unsafe) private static var factories: [String: Factory] = [
        "deduction": { c in DeductionTask(referenceCount: c.references, style: c.promptStyle, topicHints: c.topicHints,
                                          solverReasoning: c.solverReasoning, stopsAtAnswer: c.stopAtAnswer,
                                          proposalShape: c.proposalShape) },
        "abduction": { c in AbductionTask(referenceCount: c.references, style: c.promptStyle, topicHints: c.topicHints,
                                          solverReasoning: c.solverReasoning, stopsAtAnswer: c.stopAtAnswer,
                                          proposalShape: c.proposalShape) },
        "induction": { c in InductionTask(inputCount: c.inductionInputs, style: c.promptStyle, stopsAtAnswer: c.stopAtAnswer) },
    ]

    /// Makes `name` available to configs; a second registration of a name replaces the first.
    public static func register(_ name: String, _ factory: @escaping Factory) {
        lock.lock(); defer { lock.unlock() }
        factories[name] = factory
    }

    /// Every name a config may use, sorted.
    public static var names: [String] {
        lock.lock(); defer { lock.unlock() }
        return factories.keys.sorted()
    }

    /// The registry for `config.task_types`, in its order; an unknown name is an error naming the known ones.
    public static func registry(for config: TrainingConfig) throws -> EnvironmentRegistry {
        lock.lock()
        let known = factories
        lock.unlock()
        var registry = EnvironmentRegistry()
        for name in config.taskTypes {
            guard let factory = known[name] else {
                throw TrainingConfig.ConfigError.invalid(NearestName.unknown("task type", name, known: known.keys.sorted()))
            }
            let environment = factory(config)
            guard environment.name == name else {
                throw TrainingConfig.ConfigError.invalid("task type \"\(name)\" builds an environment named \"\(environment.name)\"")
            }
            registry.register(environment)
        }
        // Induction's proposer draws references from other types' buffers: they must be in the run too.
        for name in registry.names {
            for source in registry[name]!.referenceBuffers where registry[source] == nil {
                throw TrainingConfig.ConfigError.invalid("task type \"\(name)\" draws references from \"\(source)\", which task_types leaves out")
            }
        }
        return registry
    }
}
