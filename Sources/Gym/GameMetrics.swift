import Foundation

/// One figure of a game's metrics: a number, or a named group of figures (per task type, per reason, …).
/// Games choose their own keys; the loop, `--json` events and the report take whatever they find.
public enum MetricValue: Codable, Sendable, Equatable {
    case number(Double)
    case group([String: MetricValue])

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else {
            self = .group(try container.decode([String: MetricValue].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case let .number(number): try container.encode(number)
        case let .group(group): try container.encode(group)
        }
    }

    /// Every number inside, keyed by its dotted path below this value ("" for a plain number).
    public var leaves: [String: Double] {
        switch self {
        case let .number(number): return ["": number]
        case let .group(group):
            var result: [String: Double] = [:]
            for (key, value) in group {
                for (path, number) in value.leaves { result[path.isEmpty ? key : "\(key).\(path)"] = number }
            }
            return result
        }
    }
}

/// A game's figures for one step, written into the same metrics.jsonl line as the trainer's.
public typealias GameMetrics = [String: MetricValue]

extension Dictionary where Key == String, Value == MetricValue {
    /// A group of plain numbers (e.g. `valid_rate` per task type); empty when absent or not such a group.
    public func numbers(_ key: String) -> [String: Double] {
        guard case let .group(group)? = self[key] else { return [:] }
        return group.compactMapValues { if case let .number(n) = $0 { return n } else { return nil } }
    }

    /// One plain number, or nil.
    public func number(_ key: String) -> Double? {
        if case let .number(n)? = self[key] { return n }
        return nil
    }

    /// Sets `key` to a group of numbers.
    public mutating func set(_ key: String, _ numbers: [String: Double]) {
        self[key] = .group(numbers.mapValues { .number($0) })
    }

    public mutating func set(_ key: String, _ numbers: [String: Int]) {
        set(key, numbers.mapValues(Double.init))
    }

    public mutating func set(_ key: String, _ number: Double) {
        self[key] = .number(number)
    }

    /// Sets `key` to counts grouped twice (e.g. invalid proposals per task type and reason).
    public mutating func set(_ key: String, _ counts: [String: [String: Int]]) {
        self[key] = .group(counts.mapValues { inner in .group(inner.mapValues { .number(Double($0)) }) })
    }

    /// Sets `key` to valid / proposed per task type (every proposed type appears, 0 when none was valid).
    public mutating func setRates(_ key: String, valid: [String: Int], of proposed: [String: Int]) {
        let rates = [String: Double](uniqueKeysWithValues: proposed.map { type, count in
            (type, Double(valid[type] ?? 0) / Double(Swift.max(count, 1)))
        })
        set(key, rates)
    }
}
