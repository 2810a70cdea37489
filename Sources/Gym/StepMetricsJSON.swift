import Foundation

/// How a step's metrics become JSON when a figure is NaN or infinite, which JSON cannot hold: metrics.jsonl
/// keeps them as the strings "nan", "inf" and "-inf" (and reads them back), and the `--json` step event
/// carries them as null, naming them in `non_finite`, so the event is never dropped.
public enum StepMetricsJSON {
    static let nan = "nan", infinity = "inf", negativeInfinity = "-inf"

    /// metrics.jsonl's encoder: one line, sorted keys, non-finite figures as strings.
    public static var fileEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: infinity, negativeInfinity: negativeInfinity, nan: nan)
        return encoder
    }

    /// Reads what `fileEncoder` wrote.
    public static var fileDecoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: infinity, negativeInfinity: negativeInfinity, nan: nan)
        return decoder
    }

    /// The `--json` step event: the metrics' keys plus `"event": "step"`; a non-finite figure is null and its
    /// key path (e.g. `loss`, `reward.deduction.solve`) is listed in `non_finite`.
    public static func event(_ metrics: StepMetrics) throws -> Data {
        let data = try fileEncoder.encode(metrics)
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw EncodingError.invalidValue(metrics, .init(codingPath: [], debugDescription: "metrics are not a JSON object"))
        }
        var nonFinite: [String] = []
        var event = replacingNonFinite(object, path: "", found: &nonFinite) as! [String: Any]
        event["event"] = "step"
        if !nonFinite.isEmpty { event["non_finite"] = nonFinite.sorted() }
        return try JSONSerialization.data(withJSONObject: event, options: [.sortedKeys, .withoutEscapingSlashes])
    }

    private static func replacingNonFinite(_ value: Any, path: String, found: inout [String]) -> Any {
        switch value {
        case let string as String where [nan, infinity, negativeInfinity].contains(string):
            found.append(path)
            return NSNull()
        case let object as [String: Any]:
            var result: [String: Any] = [:]
            for (key, inner) in object {
                result[key] = replacingNonFinite(inner, path: path.isEmpty ? key : "\(path).\(key)", found: &found)
            }
            return result
        case let array as [Any]:
            return array.enumerated().map { replacingNonFinite($0.element, path: "\(path)[\($0.offset)]", found: &found) }
        default:
            return value
        }
    }
}
