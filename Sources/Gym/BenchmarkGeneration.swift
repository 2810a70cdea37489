import Foundation
import Trainer

/// Writes benchmark solutions with the model. For an instruct model the assistant turn opens with a
/// ```python fence holding the problem's own prompt, so the model continues the function body (as evalplus does
/// for chat models, with a response prefix); `--raw` continues the bare prompt, as for base models. Either way
/// the continuation is cut at the closing fence or at evalplus's stop sequences.
public struct BenchmarkGeneration {
    public let model: LlamaModel
    public let tokenizer: BPETokenizer
    public var chat: Bool
    public var maxNewTokens: Int
    public var batchSize: Int
    public var temperature: Float
    public var topP: Float
    public var seed: UInt64

    /// Text after which the function is complete: the fence, or code at the top level.
    public static let stopSequences = ["```", "\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\nassert ", "\n#"]

    public init(model: LlamaModel, tokenizer: BPETokenizer, chat: Bool = true, maxNewTokens: Int = 512, batchSize: Int = 16,
                temperature: Float = 0, topP: Float = 1, seed: UInt64 = 0) {
        self.model = model
        self.tokenizer = tokenizer
        self.chat = chat
        self.maxNewTokens = maxNewTokens
        self.batchSize = batchSize
        self.temperature = temperature
        self.topP = topP
        self.seed = seed
    }

    /// The prompt ends at its last non-blank character: after a trailing newline small models tend to close the
    /// fence at once instead of writing the body (evalplus strips it for the same reason).
    public func prompt(for problem: BenchmarkProblem) -> String {
        let code = Self.trimmed(problem.prompt)
        guard chat else { return code }
        // The model file's chat template (with its default system turn); plain ChatML when it carries none.
        return tokenizer.chatTemplateOrChatML.render(
            user: "Complete this Python function. Reply with the whole function in one ```python block.\n\n```python\n\(code)\n```",
            opening: "```python\n\(code)")
    }

    static func trimmed(_ text: String) -> String {
        var end = text.endIndex
        while end > text.startIndex, text[text.index(before: end)].isWhitespace { end = text.index(before: end) }
        return String(text[..<end])
    }

    /// The continuation cut at the first stop sequence.
    public static func truncate(_ continuation: String) -> String {
        var end = continuation.endIndex
        for stop in stopSequences {
            if let range = continuation.range(of: stop), range.lowerBound < end { end = range.lowerBound }
        }
        return String(continuation[..<end])
    }

    /// `samples` solutions per problem, in problem order; `progress(done, total)` counts sequences.
    public func solutions(for problems: [BenchmarkProblem], samples: Int,
                          progress: (Int, Int) -> Void = { _, _ in }) throws -> [BenchmarkSample] {
        let stop = tokenizer.endOfTurn
        var jobs: [(problem: BenchmarkProblem, prompt: [Int32])] = []
        for problem in problems {
            let ids = tokenizer.encode(prompt(for: problem))
            for _ in 0..<samples { jobs.append((problem, ids)) }
        }
        var results: [BenchmarkSample] = []
        progress(0, jobs.count)
        for start in stride(from: 0, to: jobs.count, by: batchSize) {
            let chunk = Array(jobs[start..<min(start + batchSize, jobs.count)])
            let generated = try model.generate(
                prompts: chunk.map(\.prompt), maxTokens: maxNewTokens, temperature: temperature, topP: topP,
                seed: seed &+ UInt64(start) &* 0x9E37_79B9, stop: stop,
                stopWhen: { [tokenizer] _, tokens in
                    guard tokens.count % 4 == 0 || tokens.count < 4 else { return false }
                    let tail = tokenizer.decode(Array(tokens.suffix(12)))
                    return Self.stopSequences.contains { tail.contains($0) }
                })
            for (job, sequence) in zip(chunk, generated) {
                let text = tokenizer.decode(sequence.tokens.filter { $0 != stop })
                results.append(BenchmarkSample(taskID: job.problem.taskID, program: Self.trimmed(job.problem.prompt) + Self.truncate(text)))
            }
            progress(results.count, jobs.count)
        }
        return results
    }
}
