import Foundation
import Trainer
import XCTest

/// Every quantised block format GGUFFile reads, against the values ggml's own `gguf` Python package gives for
/// the same bytes (reference/make_quant_cases.py, output committed as reference/quant_cases.json).
final class QuantFormatsTests: XCTestCase {
    struct Case: Decodable {
        var type: UInt32
        var name: String
        var bytes: String
        var values: [Float]
    }

    func cases() throws -> [Case] {
        let url = URL(fileURLWithPath: referenceFile("quant_cases.json"))
        return try JSONDecoder().decode([Case].self, from: Data(contentsOf: url))
    }

    /// A GGUF v3 file with no metadata and one tensor per case, named after its type.
    func file(_ cases: [Case]) throws -> String {
        var data = Data("GGUF".utf8)
        func put<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
        put(UInt32(3))
        put(UInt64(cases.count))
        put(UInt64(0))
        var payload = Data()
        for item in cases {
            put(UInt64(item.name.utf8.count))
            data.append(contentsOf: Array(item.name.utf8))
            put(UInt32(1))
            put(UInt64(item.values.count))
            put(item.type)
            put(UInt64(payload.count))
            payload.append(contentsOf: hex(item.bytes))
            payload.append(Data(count: (32 - payload.count % 32) % 32))
        }
        data.append(Data(count: (32 - data.count % 32) % 32))
        data.append(payload)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("quant-\(UUID().uuidString).gguf").path
        try data.write(to: URL(fileURLWithPath: path))
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func hex(_ text: String) -> [UInt8] {
        let digits = Array(text.utf8)
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
    }

    func testEveryFormatMatchesGGMLsDequantisation() throws {
        let cases = try cases()
        XCTAssertEqual(Set(cases.map(\.name)), ["Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q4_K", "Q5_K", "Q6_K"])
        let gguf = try GGUFFile(path: try file(cases))
        for item in cases {
            let info = try gguf.tensor(item.name)
            XCTAssertEqual(info.type.description, item.name)
            let values = gguf.dequantize(info)
            XCTAssertEqual(values.count, item.values.count, item.name)
            var worst: Float = 0
            for (got, want) in zip(values, item.values) { worst = max(worst, abs(got - want) / max(abs(want), 1e-3)) }
            XCTAssertLessThan(worst, 1e-5, "\(item.name): worst relative error \(worst)")
            // Not a format whose values are all zero or constant: the bytes must matter.
            XCTAssertGreaterThan(Set(values).count, 20, item.name)
        }
    }

    func testATypeNotReadIsNamedInTheError() throws {
        var q2 = try cases().first { $0.name == "Q4_K" }!
        q2.type = 10
        XCTAssertThrowsError(try GGUFFile(path: try file([q2]))) { error in
            XCTAssertTrue("\(error)".contains("tensor Q4_K has type Q2_K (#10), which is not supported (F32, F16"), "\(error)")
        }
    }

    func testARowThatIsNotWholeSuperBlocksIsAClearError() throws {
        var q6 = try cases().first { $0.name == "Q6_K" }!
        q6.values = Array(q6.values.prefix(300))
        XCTAssertThrowsError(try GGUFFile(path: try file([q6]))) { error in
            XCTAssertTrue("\(error)".contains("not a whole number of Q6_K blocks"), "\(error)")
        }
    }
}
