import Foundation
import Gym
import Sandbox
import Service
import Tasks
import Trainer

/// Every parser that reads model output or files, and the harness's own self-tests.
enum Targets {
    static func all(scratch: Scratch) -> [FuzzTarget] {
        [answer, literal, marshal, gguf(scratch), buffer(scratch), policy, config(scratch), runCode]
    }

    /// Targets that must fail, so a test can show the harness catches each kind of failure.
    static func selfTests() -> [FuzzTarget] {
        func target(_ name: String, _ byte: UInt8, _ failure: @escaping () -> Void) -> FuzzTarget {
            FuzzTarget(name: name, summary: "fails on an input holding byte \(byte)", seeds: { [Array("hello".utf8)] },
                       dictionary: [], run: { bytes in
                           if bytes.contains(byte) { failure() }
                           return true
                       })
        }
        return [
            target("selftest-crash", 0xFF) { fatalError("self-test crash") },
            target("selftest-hang", 0xFE) { while true { sleep(1) } },
            target("selftest-memory", 0xFD) {
                // Touch every page so the allocation is real whatever the allocator's laziness.
                let huge = UnsafeMutablePointer<UInt8>.allocate(capacity: 1 << 36)
                huge.initialize(repeating: 1, count: 1 << 36)
                print(huge[12345])
            },
            FuzzTarget(name: "selftest-oracle", summary: "an oracle that fails on byte 252", seeds: { [Array("hello".utf8)] },
                       dictionary: [], run: { bytes in
                           if bytes.contains(0xFC) { throw FuzzError.oracle("self-test oracle failure") }
                           return true
                       }),
        ]
    }

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    static let answer = FuzzTarget(
        name: "answer", summary: "answer-format readers: fences, assertions, proposals (strict and lenient)",
        seeds: {
            [
                "```python\ndef f(xs):\n    return xs[::2]\n\nprint(f([1, 2, 3]))\n```",
                "```python\ndef f(s):\n    return s.upper()\n```\n```input\n'ab'\n```",
                "assert f('ab', 2) == 'abab'",
                "Here it is:\n```python\nassert f([3, 1]) == [1, 3]\n```\nDone.",
                "<think>x</think>\n<answer>\n```output\n[1, (2, 3)]\n```\n</answer>",
                "The answer is `assert f(\"banana\", 2) == ['a', 'b']` as shown.",
                "```python\ndef helper(c):\n    return c.isdigit()\n\ndef count(text):\n    return sum(map(helper, text))\n\nsample = \"a1\"\nprint(count(sample))\n```",
            ].map { Array($0.utf8) }
        },
        dictionary: ["```", "```python\n", "```input\n", "```output\n", "\n```", "assert ", " == ", "f(", ")", "print(",
                     "def f(", "<answer>", "</answer>", "<think>", "\"", "'", "\\", "#", "\n", "    ", "input = ", "return "],
        run: { bytes in
            let text = Targets.text(bytes)
            var accepted = false
            for mode in [AnswerFormat.Mode.strict, .lenient] {
                if let fences = try? AnswerFormat.fences(in: text, mode: mode), !fences.isEmpty { accepted = true }
                if (try? AnswerFormat.programAndInput(in: text, mode: mode)) != nil { accepted = true }
                if (try? AssertionAnswer.read(in: text, mode: mode)) != nil { accepted = true }
                if (try? ProposalReading.programAndInput(in: text, mode: mode)) != nil { accepted = true }
            }
            return accepted
        })

    static let literal = FuzzTarget(
        name: "literal", summary: "Python literal parser; an accepted value's repr must parse back to an equal value",
        seeds: {
            [
                "[1, -2, 3.5, 'a\\n', b'\\x00\\xff', None, True]", "{'a': (1, 2), 3: {4, 5}, (): frozenset()}",
                "(1+2j, -0.0, 1e308, 1e-320, 2.5e-3)", "123456789012345678901234567890", "'\\u00e9\\U0001F600'",
                "\"x9ja\", [4, 1, 4, 3], {'k': [[], [[]]]}", "0x1F, 0o17, 0b101, 1_000", "''' a '''",
            ].map { Array($0.utf8) }
        },
        dictionary: ["[", "]", "(", ")", "{", "}", ",", ":", "'", "\"", "\\x", "\\u", "\\N{", "b'", "r'", "1e308", "1e-400",
                     "-", "j", "0x", "_", ".", "float('nan')", "float('inf')", "frozenset(", "set()", "None", "True", "complex("],
        run: { bytes in
            let text = Targets.text(bytes)
            _ = try? PythonLiteralParser().parseArguments(text)
            let value = try PythonValue(literal: text)
            let repr = value.description
            let again: PythonValue
            do { again = try PythonValue(literal: repr) } catch {
                throw FuzzError.oracle("the repr \(repr.prefix(200)) of an accepted literal does not parse: \(error)")
            }
            // CPython's own repr does not always evaluate back to the same repr (`complex(-0.0, -2)` is `(-0-2j)`,
            // which evaluates to `-2j`), but always to an equal value; NaNs are compared by repr.
            guard again == value || again.description == repr else {
                throw FuzzError.oracle("the repr \(repr.prefix(200)) parses back as \(again.description.prefix(200))")
            }
            return true
        })

    static let marshal = FuzzTarget(
        name: "marshal", summary: "the reader of a sandboxed child's marshal report",
        seeds: {
            func string(_ text: String) -> [UInt8] {
                [UInt8(ascii: "u")] + withUnsafeBytes(of: UInt32(text.utf8.count).littleEndian, Array.init) + Array(text.utf8)
            }
            let status = string("status") + string("ok")
            let value = string("value") + [UInt8(ascii: "[")] + withUnsafeBytes(of: UInt32(3).littleEndian, Array.init)
                + [UInt8(ascii: "i"), 7, 0, 0, 0, UInt8(ascii: "N"), UInt8(ascii: "g")] + withUnsafeBytes(of: (2.5).bitPattern.littleEndian, Array.init)
            let long = string("big") + [UInt8(ascii: "l"), 2, 0, 0, 0, 0xff, 0x7f, 0x01, 0x00]
            return [
                [UInt8(ascii: "{")] + status + value + [UInt8(ascii: "0")],
                [UInt8(ascii: "{")] + long + string("flag") + [UInt8(ascii: "T"), UInt8(ascii: "0")],
                string("plain"),
            ]
        },
        dictionary: ["N", "T", "F", "i", "l", "g", "u", "t", "[", "(", "{", "0"],
        run: { bytes in
            _ = try MarshalReader.read(bytes)
            return true
        })

    static func gguf(_ scratch: Scratch) -> FuzzTarget {
        FuzzTarget(
            name: "gguf", summary: "GGUF header, metadata and tensor table, tensor data, the tokenizer and model config",
            seeds: {
                let metadata: [(String, GGUFValue)] = [
                    ("general.architecture", .string("llama")), ("llama.context_length", .uint(64)), ("llama.block_count", .uint(1)), ("llama.embedding_length", .uint(4)),
                    ("llama.feed_forward_length", .uint(8)), ("llama.attention.head_count", .uint(2)),
                    ("llama.attention.head_count_kv", .uint(1)), ("llama.rope.freq_base", .float(10000)),
                    ("tokenizer.ggml.model", .string("gpt2")),
                    ("tokenizer.ggml.tokens", .array(["a", "b", "ab", "Ġ", "<|im_end|>"].map { .string($0) })),
                    ("tokenizer.ggml.merges", .array([.string("a b")])), ("tokenizer.ggml.token_type", .array([1, 1, 1, 1, 3].map { .int($0) })),
                    ("tokenizer.chat_template", .string("{% for message in messages %}<|im_start|>{{ message['role'] }}{% endfor %}")),
                ]
                var seeds: [[UInt8]] = []
                for half in [false, true] {
                    let values: [Float] = (0..<16).map { Float($0) / 4 }
                    let url = scratch.folder.appendingPathComponent("seed-\(half).gguf")
                    try values.withUnsafeBufferPointer { buffer in
                        try GGUFWriter.write(to: url, metadata: metadata, tensors: [
                            .init(name: "token_embd.weight", dimensions: [4, 4], values: UnsafeBufferPointer(rebasing: buffer[0..<16])),
                            .init(name: "output_norm.weight", dimensions: [4], values: UnsafeBufferPointer(rebasing: buffer[0..<4])),
                        ], half: half)
                    }
                    seeds.append(Array(try Data(contentsOf: url)))
                }
                return seeds
            },
            dictionary: ["GGUF", "general.alignment", "tokenizer.ggml.tokens", "tokenizer.ggml.merges", "llama.block_count"],
            run: { bytes in
                let file = try GGUFFile(path: scratch.file("fuzz.gguf", bytes).path)
                for tensor in file.tensors { _ = file.dequantize(tensor) }
                if file.metadata["tokenizer.ggml.tokens"] != nil {
                    let tokenizer = try BPETokenizer(gguf: file)
                    _ = tokenizer.decode(tokenizer.encode("ab a<|im_end|>b"))
                }
                _ = try LlamaConfig(gguf: file)
                return true
            })
    }

    static func buffer(_ scratch: Scratch) -> FuzzTarget {
        FuzzTarget(
            name: "buffer", summary: "JSONL task buffers: loading, then the resume rewrite with unreadable lines kept aside",
            seeds: { try seedFiles(["examples/buffers/deduction.jsonl", "examples/buffers/abduction.jsonl", "examples/buffers/induction.jsonl"]) },
            dictionary: ["{", "}", "\"program\"", "\"input\"", "\"output\"", "\"inputs\"", "\"step\"", "\"type\"", "\"source\"",
                         "\"seed\"", ":", ",", "\n", "null", "-1", "1e400", "\\u0000", "\\\""],
            run: { bytes in
                let folder = try scratch.emptyFolder("buffer")
                let url = folder.appendingPathComponent("deduction.jsonl")
                try Data(bytes).write(to: url)
                let buffer = try TaskBuffer(name: "deduction", url: url)
                let clean = buffer.problems.isEmpty
                try buffer.discard(fromStep: 0, salvage: true)
                return clean
            })
    }

    static let policy = FuzzTarget(
        name: "policy", summary: "sandbox policy files",
        seeds: { try seedFiles(["sandbox-policies/default.json", "sandbox-policies/strict.json", "sandbox-policies/benchmark.json",
                                "sandbox-policies/service.json"]) },
        dictionary: ["\"syscall\"", "\"args\"", "\"index\"", "\"op\"", "\"masked_eq\"", "\"value\"", "\"limits\"", "-1",
                     "18446744073709551615", "1e999", "\"kill\"", "\"errno\"", "[", "]", "{", "}", ","],
        run: { bytes in
            _ = try SandboxPolicy(json: Data(bytes), file: "fuzz.json")
            return true
        })

    /// azr serve's request bodies: whatever is accepted must be safe to act on (paths inside the run's
    /// directory, a positive timeout); whatever is refused must name at least one field.
    static let runCode = FuzzTarget(
        name: "run_code", summary: "azr serve's /run_code bodies (SandboxFusion's fields, 422 problems)",
        seeds: {
            [
                #"{"code": "print(1)", "language": "python", "run_timeout": 2.5, "memory_limit_MB": 1024, "stdin": null}"#,
                #"{"code": "x", "files": {"a/b.txt": "aGk=", "c": null}, "fetch_files": ["out.txt", "d/e"]}"#,
                #"{"code": "x", "stdin": "3 4\n", "compile_timeout": 10, "unknown": [1, {"k": 2}]}"#,
            ].map { Array($0.utf8) }
        },
        dictionary: ["\"code\"", "\"files\"", "\"fetch_files\"", "\"run_timeout\"", "\"stdin\"", "\"memory_limit_MB\"",
                     "\"language\"", "\"../\"", "\"/etc/passwd\"", "null", "true", "-1", "0", "1e999", "\"\"", "{", "}", "[", "]",
                     ":", ",", "\\u0000", "//", "/./"],
        run: { bytes in
            let request: RunCodeRequest
            do {
                request = try RunCodeRequest(json: bytes)
            } catch let refused as RequestProblems {
                if refused.problems.isEmpty { throw FuzzError.oracle("a refused body named no field") }
                return false
            }
            for path in request.files.map(\.path) + request.fetchFiles {
                let parts = path.split(separator: "/", omittingEmptySubsequences: false)
                if path.hasPrefix("/") || path.contains("\0") || parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) {
                    throw FuzzError.oracle("accepted a path outside the run's directory: \(path)")
                }
            }
            if !(request.runTimeout > 0) || !request.runTimeout.isFinite {
                throw FuzzError.oracle("accepted run_timeout \(request.runTimeout)")
            }
            return true
        })

    static func config(_ scratch: Scratch) -> FuzzTarget {
        FuzzTarget(
            name: "config", summary: "training config files (unknown keys, types, ranges)",
            seeds: { try seedFiles(["examples/configs/reference-rewards.json", "examples/configs/replay-buffers.json",
                                    "examples/configs/strict-paper-format.json"]) },
            dictionary: ["\"preset\"", "\"steps\"", "\"learning_rate\"", "\"rewards\"", "\"seed\"", "-1", "1e999", "NaN",
                         "null", "true", "\"\"", "{", "}", ":", ","],
            run: { bytes in
                let config = try TrainingConfig.load(scratch.file("config.json", bytes).path, over: TrainingConfig())
                try config.validate()
                return true
            })
    }
}
