import Foundation
@testable import Service
import XCTest

/// `azr serve` as a user starts it: its errors are one line, and its parts answer known inputs.
final class ServeCommandTests: XCTestCase {
    func testABusyPortIsOneLineAndStatusOne() throws {
        let first = try ServedProcess(["--workers", "1"])
        defer { _ = first.stop() }
        let second = try ServedProcess.azr(["serve", "--port", String(first.port), "--workers", "1"])
        let text = second.stderr
        XCTAssertEqual(second.status, 1)
        XCTAssertEqual(text.split(separator: "\n").count, 1, text)
        XCTAssertTrue(text.hasPrefix("azr: cannot listen on 127.0.0.1:\(first.port):"), text)
    }

    func testAMissingTokenFileIsAUsageError() throws {
        let run = try ServedProcess.azr(["serve", "--port", "0", "--token-file", "/nonexistent/token"])
        XCTAssertEqual(run.status, 2)
        XCTAssertEqual(run.stderr, "azr: cannot read the token file /nonexistent/token\n")
    }

    func testRequestDefaultsAreSandboxFusions() throws {
        let request = try RunCodeRequest(json: Array(#"{"code": "print(1)", "unknown": [1, 2]}"#.utf8))
        XCTAssertEqual(request.language, "python")
        XCTAssertEqual(request.compileTimeout, 10)
        XCTAssertEqual(request.runTimeout, 10)
        XCTAssertEqual(request.memoryLimitMegabytes, -1)
        XCTAssertNil(request.stdin)
        XCTAssertTrue(request.files.isEmpty)
        XCTAssertEqual(request.fetchFiles, [])
    }

    func testEveryBadFieldIsNamedAtOnce() {
        let body = #"{"run_timeout": true, "files": {"a/../../b": "eA=="}, "fetch_files": ["ok.txt", ""]}"#
        XCTAssertThrowsError(try RunCodeRequest(json: Array(body.utf8))) { error in
            let problems = (error as? RequestProblems)?.problems ?? []
            XCTAssertEqual(problems.map(\.location), [["body", "code"], ["body", "run_timeout"],
                                                      ["body", "files", "a/../../b"], ["body", "fetch_files", "1"]])
            XCTAssertEqual(problems.first?.type, "missing")
        }
    }

    func testResponsesQuoteControlCharactersAndKeepKeyOrder() {
        let value = JSONValue.object([("b", .string("tab\there \"q\" \u{1} é\n")), ("a", .null), ("n", .int(-3))])
        XCTAssertEqual(value.text, #"{"b": "tab\there \"q\" \u0001 é\n", "a": null, "n": -3}"#)
        let parsed = try? JSONSerialization.jsonObject(with: Data(value.bytes)) as? [String: Any]
        XCTAssertEqual(parsed?["b"] as? String, "tab\there \"q\" \u{1} é\n")
    }

    func testBenchServePrintsItsFiguresAsJSON() throws {
        let run = try ServedProcess.azr(["bench", "serve", "--json", "--seconds", "1", "--spawn-seconds", "1", "--clients", "8"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let figures = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        for key in ["runs_per_s", "p50_ms", "p99_ms", "spawn_runs_per_s", "ratio"] {
            XCTAssertNotNil(figures[key] as? Double, key)
        }
        XCTAssertEqual(figures["wrong_answers"] as? Int, 0)
        XCTAssertGreaterThan(figures["requests"] as? Int ?? 0, 0)
    }

    func testASilentConnectionIsClosedButOneWaitingForItsProgramIsNot() throws {
        let served = try ServedProcess(["--workers", "1", "--idle-seconds", "1"])
        defer { _ = served.stop() }
        func connect() throws -> Int32 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(served.port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let status = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard status == 0 else { throw XCTSkip("cannot connect: \(errno)") }
            var limit = timeval(tv_sec: 6, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            return fd
        }
        func readAll(_ fd: Int32) -> String {
            var text = [UInt8]()
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let got = recv(fd, &chunk, chunk.count, 0)
                if got <= 0 { break }
                text += chunk[0..<got]
            }
            return String(decoding: text, as: UTF8.self)
        }
        let silent = try connect()
        defer { close(silent) }
        let started = Date()
        XCTAssertEqual(readAll(silent), "")
        XCTAssertLessThan(Date().timeIntervalSince(started), 4, "the silent connection was not closed")

        let busy = try connect()
        defer { close(busy) }
        let body = #"{"code": "import time\ntime.sleep(2.5)\nprint('late')"}"#
        let request = "POST /run_code HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        _ = request.withCString { send(busy, $0, strlen($0), 0) }
        let answer = readAll(busy)
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 200 OK"), answer)
        XCTAssertTrue(answer.contains(#""stdout": "late\n""#), answer)
    }
}
