import ArgumentParser
import Foundation
import Trainer
import Gym

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Continue a prompt with the model and print only the continuation.")

    @Option(help: "The prompt.") var prompt: String
    @Option(help: "A llama or qwen2 GGUF file, or a run folder (its newest checkpoint). Default: $AZR_MODEL, else the installed Qwen2.5-Coder-0.5B-Instruct.") var model: String?
    @Flag(help: "Use the prompt as is, without the model's chat template.") var raw = false
    @Option(help: "Tokens to generate at most.") var maxTokens = 128
    @Option(help: "0 is greedy.") var temperature: Float = 0
    @Option(help: "Nucleus sampling mass.") var topP: Float = 1
    @Option(help: "Seed for sampling.") var seed: UInt64 = 0

    func run() throws {
        let path = try ModelLocation.resolve(model)
        let file: GGUFFile
        do { file = try GGUFFile(path: path) } catch { throw CLIError.usage("\(error)") }
        let tokenizer = try BPETokenizer(gguf: file)
        let llama = LlamaModel(parameters: try LlamaParameters(gguf: file))
        let text = raw ? prompt : tokenizer.chatTemplateOrChatML.render(user: prompt)
        let ids = tokenizer.encode(text)
        let stop = tokenizer.endOfTurn
        let cache = KVCache(config: llama.config, capacity: ids.count + maxTokens)
        var sampler = Sampler(temperature: temperature, topP: topP, seed: seed)
        var logits = try llama.forward(ids, cache: cache)
        var generated: [Int32] = []
        var printed = ""
        for _ in 0..<maxTokens {
            let next = sampler.next(logits)
            if next == stop { break }
            generated.append(next)
            // Print as text completes; a partial UTF-8 sequence waits for its next token.
            let decoded = tokenizer.decode(generated)
            if !decoded.hasSuffix("\u{FFFD}") {
                FileHandle.standardOutput.write(Data(decoded.dropFirst(printed.count).utf8))
                printed = decoded
            }
            logits = try llama.forward([next], cache: cache)
        }
        let decoded = tokenizer.decode(generated)
        FileHandle.standardOutput.write(Data((decoded.dropFirst(printed.count) + "\n").utf8))
    }
}
