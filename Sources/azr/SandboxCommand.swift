import ArgumentParser
import Foundation
import Sandbox

struct SandboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Run untrusted Python in the sandbox, or measure its speed.",
        subcommands: [SandboxRun.self, SandboxBench.self])
}

struct SandboxRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run FILE in a confined child; with --call, call f(ARGS) and print its value.",
        discussion: """
        Exit status: 0 when the program ran to completion (and, with --expect, the value equals LITERAL as \
        Python values, compared outside the sandbox); 1 when it failed, was killed or differs; 2 for usage errors.
        """)

    @Argument(help: "A Python file.") var file: String
    @Option(help: "Arguments for the entry point, as Python literal text, e.g. '\"abc\", [1, 2]'.") var call: String?
    @Option(help: "The function to call.") var entry = "f"
    @Option(help: "The expected value of the call, as a Python literal.") var expect: String?
    @Option(help: "Policy name (in sandbox-policies/) or path.") var policy = "default"
    @Option(help: "Wall-clock limit in milliseconds (default: the policy's).") var timeoutMs: Int?
    @Flag(help: "Print the outcome as JSON.") var json = false

    func run() throws {
        let source: String
        do { source = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw CLIError.usage("cannot read \(file)")
        }
        if expect != nil && call == nil { throw CLIError.usage("--expect needs --call") }
        let expected: PythonValue?
        do { expected = try expect.map { try PythonValue(literal: $0) } } catch {
            throw CLIError.usage("--expect: \(error)")
        }
        let pool: ZygotePool
        do { pool = try ZygotePool(policyNamed: policy, size: 1) } catch { throw CLIError.usage("\(error)") }
        defer { pool.shutdown() }
        let result = pool.run(SandboxJob(program: source, calls: call.map { [$0] }, entryPoint: entry,
                                         timeoutMilliseconds: timeoutMs))
        let verdict = SandboxVerdict(result: result, expected: expected)
        if json {
            print(verdict.json)
        } else {
            print(verdict.line)
            if !result.stdout.isEmpty { print("stdout:\n\(result.stdout)", terminator: result.stdout.hasSuffix("\n") ? "" : "\n") }
        }
        if !verdict.passed { throw ExitCode(1) }
    }
}
