import Foundation
import Tasks
import Trainer

/// Games a run's config may name in `game`, each built over the sandbox from the config. `azr`, `lsp`, `sgs` and
/// `soar` are here; a plug-in registers its own the same way.
public enum GameCatalog {
    /// Builds a game for a run: the config, the sandbox runner, the buffers' folder (nil: in memory) and the
    /// step to start at.
    public typealias Factory = @Sendable (TrainingConfig, ProgramRunner, URL?, Int) throws -> any Game

    struct Entry {
        var type: any Game.Type
        var make: Factory
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var factories: [String: Entry] = [
        "azr": Entry(type: AZRGame.self) { config, runner, directory, step in
            let play = try selfPlay(config, runner, directory, step)
            let weighting = TRRAdvantages.Weighting(rawValue: config.advantageWeighting) ?? .tokens
            return AZRGame(play: play, advantages: TRRAdvantages(weighting: weighting), seedSize: config.seedSize,
                           seedingRounds: config.seedingRounds)
        },
        "lsp": Entry(type: LSPGame.self) { config, runner, directory, step in
            LSPGame(play: try selfPlay(config, runner, directory, step), settings: config.lspSettings, step: step)
        },
        "sgs": Entry(type: SGSGame.self) { config, runner, directory, step in
            let play = try selfPlay(config, runner, directory, step)
            let targets = try SGSTargets.load(source: SGSTargets.Source(rawValue: config.targets) ?? .cruxeval, file: config.targetsFile,
                                              seed: config.seed, heldOutFraction: config.heldOutFraction, count: config.targetCount,
                                              registry: play.registry, runner: runner)
            // The selection is recorded beside buffers/ in the run folder, and must not change on resume.
            if let directory { try targets.record(in: directory.deletingLastPathComponent()) }
            return try SGSGame(play: play, settings: config.sgsSettings, targets: targets, directory: directory, step: step)
        },
        "soar": Entry(type: SOARGame.self) { config, runner, directory, step in
            let play = try selfPlay(config, runner, directory, step)
            // Every problem of the split is a candidate; screening before step 0 picks the hard ones.
            let candidates = try SGSTargets.load(source: SGSTargets.Source(rawValue: config.targets) ?? .cruxevalO, file: config.targetsFile,
                                                 seed: config.seed, heldOutFraction: config.heldOutFraction, count: 0,
                                                 registry: play.registry, runner: runner)
            return try SOARGame(play: play, settings: config.soarSettings, candidates: candidates, hardCount: config.hardCount,
                                heldOutCount: config.hardHeldOutCount, screenSamples: config.hardScreenSamples,
                                screenLimit: config.hardScreenLimit, folder: directory?.deletingLastPathComponent(), step: step)
        },
    ]

    /// The task types, buffers and proposal machinery a game plays over, from the config.
    public static func selfPlay(_ config: TrainingConfig, _ runner: ProgramRunner, _ directory: URL?, _ step: Int) throws -> SelfPlay {
        try SelfPlay(registry: TaskTypeCatalog.registry(for: config), runner: runner, settings: config.selfPlaySettings,
                     directory: directory, seed: config.seed, step: step)
    }

    /// Makes game `name` available to configs: its type (for the report's panels) and how to build it.
    public static func register(_ name: String, type: any Game.Type, _ factory: @escaping Factory) {
        lock.lock(); defer { lock.unlock() }
        factories[name] = Entry(type: type, make: factory)
    }

    /// The report's panels for game `name` (none for an unknown game: the report then charts every series).
    public static func panels(game name: String) -> [MetricPanel] {
        lock.lock(); defer { lock.unlock() }
        return factories[name]?.type.panels ?? []
    }

    public static var names: [String] {
        lock.lock(); defer { lock.unlock() }
        return factories.keys.sorted()
    }

    /// The game `config.game` names, starting at `step`.
    public static func game(for config: TrainingConfig, runner: ProgramRunner, directory: URL?, step: Int) throws -> any Game {
        lock.lock()
        let factory = factories[config.game]?.make
        lock.unlock()
        guard let factory else {
            throw TrainingConfig.ConfigError.invalid(NearestName.unknown("game", config.game, known: names))
        }
        return try factory(config, runner, directory, step)
    }
}
