import Foundation
import Sandbox
import Tasks

/// SGS's target problems: real, verifiable problems of a registered task type, split once per run into the part
/// the game plays on (`targets`) and a held-out part no prompt, reward or record of the game ever contains
/// (`heldOut`). The split is a function of the seed and each problem's program and input, so CRUXEval's output
/// and input prediction of one program always fall on the same side (otherwise a held-out problem's program
/// would be trained on through its other direction). The selection is recorded in the run folder as
/// targets.json and checked on every resume.
public struct SGSTargets: Sendable {
    /// Where targets come from (`targets` in the config).
    public enum Source: String, Codable, Sendable, CaseIterable {
        /// CRUXEval's output prediction (deduction) and input prediction (abduction).
        case cruxeval
        /// CRUXEval's output prediction only.
        case cruxevalO = "cruxeval_o"
        /// CRUXEval's input prediction only.
        case cruxevalI = "cruxeval_i"
        /// HumanEval+ as induction tasks (`BenchmarkInduction`): write `f` from the docstring and some calls.
        case humanevalPlus = "humaneval_plus"
        /// MBPP+ as induction tasks, the same way.
        case mbppPlus = "mbpp_plus"
        /// Any JSON Lines file of triples or CRUXEval rows (`targets_file`, e.g. an exported buffer).
        case file

        /// The dataset file read when `targets_file` is not set.
        var defaultFileName: String? {
            switch self {
            case .cruxeval, .cruxevalO, .cruxevalI: return "cruxeval.jsonl.gz"
            case .humanevalPlus: return "HumanEvalPlus-v0.1.10.jsonl.gz"
            case .mbppPlus: return "MbppPlus-pre-v0.2.0-399.jsonl.gz"
            case .file: return nil
            }
        }
    }

    public enum TargetError: Error, CustomStringConvertible {
        case noFile(String)
        case unreadable(String, String)
        case noTargets(String)
        case changed(String)

        public var description: String {
            switch self {
            case let .noFile(why): return why
            case let .unreadable(path, why): return "cannot read targets \(path): \(why)"
            case let .noTargets(why): return why
            case let .changed(why): return why
            }
        }
    }

    /// What targets.json records: the file, the split's settings, and the problems on each side, by problem key
    /// (`type/id`, the key `azr experiment`'s verdicts use).
    public struct Selection: Codable, Sendable, Equatable {
        public var source: String
        public var file: String
        public var seed: UInt64
        public var held_out_fraction: Double
        public var targets: [String]
        public var held_out: [String]
    }

    /// The game's targets, in the order rounds draw them.
    public let targets: [Triple]
    /// The held-out targets; kept only so tests and reports can name them, never shown to the model.
    public let heldOut: [Triple]
    public let selection: Selection

    /// The problem key of a triple: task type and id (`Triple.problemKey`).
    public static func key(_ triple: Triple) -> String { triple.problemKey }

    /// Splits `problems`: each program (with its input) lands in the held-out part with probability
    /// `heldOutFraction`, by a stable hash with the seed; the rest, in a seeded order, gives the first `count`
    /// targets (0: all of them).
    public init(problems: [Triple], source: String, file: String, seed: UInt64, heldOutFraction: Double, count: Int) throws {
        func unit(_ text: String) -> Double { Double(StableHash.fnv1a64(text) >> 11) / Double(1 << 53) }
        func side(_ triple: Triple) -> Double { unit("\(seed)\u{0}split\u{0}\(triple.program)\u{0}\(triple.input ?? "")") }
        let held = problems.filter { side($0) < heldOutFraction }
        var rest = problems.filter { side($0) >= heldOutFraction }
        rest.sort { unit("\(seed)\u{0}order\u{0}\(Self.key($0))") < unit("\(seed)\u{0}order\u{0}\(Self.key($1))") }
        if count > 0 { rest = Array(rest.prefix(count)) }
        guard !rest.isEmpty else {
            throw TargetError.noTargets("no targets left in \(file) after holding out \(Int(heldOutFraction * 100))% of \(problems.count) problems")
        }
        targets = rest
        heldOut = held
        selection = Selection(source: source, file: file, seed: seed, held_out_fraction: heldOutFraction,
                              targets: rest.map(Self.key), held_out: held.map(Self.key))
    }

    /// The targets a config names, of the task types the run plays (others are left out; none left is an
    /// error). HumanEval+ and MBPP+ become induction tasks by running their canonical solutions on `runner`.
    public static func load(source: Source, file: String?, seed: UInt64, heldOutFraction: Double, count: Int,
                            registry: EnvironmentRegistry, runner: ProgramRunner) throws -> SGSTargets {
        let path = try locate(source: source, file: file)
        var problems: [Triple]
        do {
            switch source {
            case .cruxeval: problems = try BufferFiles.cruxeval(from: path, limit: nil)
            case .cruxevalO: problems = try BufferFiles.importable(from: path, type: "deduction").triples
            case .cruxevalI: problems = try BufferFiles.importable(from: path, type: "abduction").triples
            case .humanevalPlus, .mbppPlus:
                problems = BenchmarkInduction.triples(from: try BenchmarkLoader.load(path), runner: runner).triples
            case .file:
                let read = try BufferFiles.importable(from: path, type: "deduction")
                if let problem = read.problems.first { throw TargetError.unreadable(path, "line \(problem.line): \(problem.reason)") }
                problems = read.triples
            }
        } catch let error as TargetError { throw error } catch { throw TargetError.unreadable(path, "\(error)") }
        let playable = problems.filter { registry[$0.type]?.statement(of: $0) != nil }
        guard !playable.isEmpty else {
            let types = Set(problems.map(\.type)).sorted().joined(separator: ", ")
            throw TargetError.noTargets("\(path) has no targets of a type this run plays (its problems: \(types.isEmpty ? "none" : types); task_types: \(registry.names.joined(separator: ", ")))")
        }
        return try SGSTargets(problems: playable, source: source.rawValue, file: path, seed: seed, heldOutFraction: heldOutFraction, count: count)
    }

    /// `file`, or the source's dataset in ../shared/datasets (`$AZR_DATASETS` first; also looked for above the
    /// executable, as presets are).
    static func locate(source: Source, file: String?) throws -> String {
        if let file {
            guard FileManager.default.fileExists(atPath: file) else { throw TargetError.noFile("targets_file \(file) does not exist") }
            return URL(fileURLWithPath: file).standardizedFileURL.path
        }
        guard let name = source.defaultFileName else { throw TargetError.noFile("targets \"file\" needs targets_file") }
        var folders = ExecutableLocation.dataFolders(named: "shared/datasets", override: "AZR_DATASETS")
        folders.insert(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("../shared/datasets"), at: 1)
        for folder in folders {
            let candidate = folder.appendingPathComponent(name).standardizedFileURL
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate.path }
        }
        throw TargetError.noFile("no \(name) in ../shared/datasets (set targets_file or $AZR_DATASETS)")
    }

    /// Writes targets.json into `folder`, or checks that the one there records this very selection (a changed
    /// dataset or setting would silently move problems between the sides).
    public func record(in folder: URL) throws { try selection.record(in: folder) }
}

extension SGSTargets.Selection {
    /// Writes this selection as targets.json into `folder`, or checks that the one there is this very selection
    /// (SGS's targets, SOAR's hard set); an unreadable file is an error, never overwritten.
    public func record(in folder: URL) throws {
        let url = folder.appendingPathComponent("targets.json")
        if FileManager.default.fileExists(atPath: url.path) {
            let saved: Self
            do { saved = try JSONDecoder().decode(Self.self, from: Data(contentsOf: url)) } catch {
                throw SGSTargets.TargetError.unreadable(url.path, "\(error)")
            }
            guard saved == self else {
                throw SGSTargets.TargetError.changed("\(url.path) records another target selection than this run's settings and dataset give; the split must not change within a run")
            }
            return
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(self) + Data("\n".utf8), to: url)
    }
}

extension SGSTargets {

    /// The selection a run folder recorded, nil when it has none (not an SGS run).
    public static func recorded(in folder: URL) throws -> Selection? {
        let url = folder.appendingPathComponent("targets.json")
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do { return try JSONDecoder().decode(Selection.self, from: Data(contentsOf: url)) } catch {
            throw TargetError.unreadable(url.path, "\(error)")
        }
    }
}
