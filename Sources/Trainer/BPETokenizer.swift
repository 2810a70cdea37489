import Foundation

/// Byte-level BPE as SmolLM2 (and GPT-2-style llama models) use it, read from a GGUF file's metadata:
/// control tokens are matched first and never split; the rest is split so that every numeric character stands alone,
/// then by the GPT-2 pattern; each piece's UTF-8 bytes become characters through GPT-2's byte map and are
/// merged pair by pair in merge-rank order.
public final class BPETokenizer {
    public let tokens: [String]
    private let ids: [String: Int32]
    /// (left id << 32 | right id) → (rank, merged id).
    private let merges: [UInt64: (rank: Int32, merged: Int32)]
    /// Control tokens, longest first so that a longer one wins where two start together.
    private let specials: [(text: [Unicode.Scalar], id: Int32)]
    /// Each byte's token; nil for the bytes the vocabulary lacks (SmolLM2 has no token for 21 of them, bytes
    /// that never occur in valid UTF-8 and a few control bytes), which are dropped as the reference does.
    private let byteTokens: [Int32?]
    private let charToByte: [Unicode.Scalar: UInt8]
    private var cache: [String: [Int32]] = [:]
    private let cacheLock = NSLock()

    public var vocabularySize: Int { tokens.count }
    /// The chat format the file's `tokenizer.chat_template` describes, when it is one `ChatTemplate` knows.
    public let chatTemplate: ChatTemplate?
    /// The file's chat template, or plain ChatML when it carries none `ChatTemplate` knows (chat-mode generation).
    public var chatTemplateOrChatML: ChatTemplate { chatTemplate ?? ChatTemplate(family: .chatml) }

    public init(gguf file: GGUFFile) throws {
        guard case let .array(tokenValues) = try file.require("tokenizer.ggml.tokens"),
              case let .array(mergeValues) = try file.require("tokenizer.ggml.merges") else {
            throw GGUFError.malformed(file.path, "tokenizer arrays")
        }
        tokens = tokenValues.map { $0.string ?? "" }
        chatTemplate = file.metadata["tokenizer.chat_template"]?.string.flatMap(ChatTemplate.init(jinja:))
        var ids: [String: Int32] = [:]
        for (index, token) in tokens.enumerated() where ids[token] == nil { ids[token] = Int32(index) }
        self.ids = ids

        var merges: [UInt64: (Int32, Int32)] = [:]
        for (rank, value) in mergeValues.enumerated() {
            guard let text = value.string, let space = text.firstIndex(of: " ") else { continue }
            let left = String(text[..<space]), right = String(text[text.index(after: space)...])
            guard let a = ids[left], let b = ids[right], let merged = ids[left + right] else { continue }
            let key = UInt64(UInt32(a)) << 32 | UInt64(UInt32(b))
            if merges[key] == nil { merges[key] = (Int32(rank), merged) }
        }
        self.merges = merges

        var types: [Int] = Array(repeating: 1, count: tokens.count)
        if case let .array(typeValues)? = file.metadata["tokenizer.ggml.token_type"] {
            types = typeValues.map { $0.int ?? 1 }
        }
        specials = zip(tokens, types).enumerated()
            .filter { $0.element.1 == 3 && !$0.element.0.isEmpty }
            .map { (Array($0.element.0.unicodeScalars), Int32($0.offset)) }
            .sorted { $0.text.count > $1.text.count }

        let map = Self.byteToCharacter()
        byteTokens = (0..<256).map { ids[String(map[$0])] }
        charToByte = Dictionary(uniqueKeysWithValues: map.enumerated().map { ($1, UInt8($0)) })
    }

    public func id(of token: String) -> Int32? { ids[token] }

    /// Where a reply ends: ChatML's `<|im_end|>`, Llama 3's `<|eot_id|>`, else the base model's `<|endoftext|>`.
    public var endOfTurn: Int32? { id(of: "<|im_end|>") ?? id(of: "<|eot_id|>") ?? id(of: "<|endoftext|>") }

    public func encode(_ text: String) -> [Int32] {
        var output: [Int32] = []
        let scalars = Array(text.unicodeScalars)
        var segmentStart = 0
        var index = 0
        while index < scalars.count {
            if let special = specials.first(where: { matches($0.text, in: scalars, at: index) }) {
                encodeOrdinary(scalars[segmentStart..<index], into: &output)
                output.append(special.id)
                index += special.text.count
                segmentStart = index
            } else {
                index += 1
            }
        }
        encodeOrdinary(scalars[segmentStart..<scalars.count], into: &output)
        return output
    }

    public func decode(_ ids: [Int32]) -> String {
        var bytes: [UInt8] = []
        for id in ids where id >= 0 && Int(id) < tokens.count {
            for scalar in tokens[Int(id)].unicodeScalars {
                if let byte = charToByte[scalar] {
                    bytes.append(byte)
                } else {
                    bytes.append(contentsOf: Array(String(scalar).utf8))
                }
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private func matches(_ needle: [Unicode.Scalar], in text: [Unicode.Scalar], at index: Int) -> Bool {
        guard index + needle.count <= text.count else { return false }
        for offset in 0..<needle.count where text[index + offset] != needle[offset] { return false }
        return true
    }

    private func encodeOrdinary(_ text: ArraySlice<Unicode.Scalar>, into output: inout [Int32]) {
        for piece in PreTokenizer.split(text) {
            var word = ""
            word.unicodeScalars.append(contentsOf: piece)
            output.append(contentsOf: bpe(word))
        }
    }

    /// Merges one pre-token's bytes, lowest rank first, leftmost first among equal pairs.
    private func bpe(_ word: String) -> [Int32] {
        cacheLock.lock()
        if let cached = cache[word] {
            cacheLock.unlock()
            return cached
        }
        cacheLock.unlock()
        var parts = word.utf8.compactMap { byteTokens[Int($0)] }
        while parts.count > 1 {
            var best: (rank: Int32, index: Int, merged: Int32)?
            for i in 0..<parts.count - 1 {
                let key = UInt64(UInt32(parts[i])) << 32 | UInt64(UInt32(parts[i + 1]))
                if let merge = merges[key], best == nil || merge.rank < best!.rank {
                    best = (merge.rank, i, merge.merged)
                }
            }
            guard let chosen = best else { break }
            parts[chosen.index] = chosen.merged
            parts.remove(at: chosen.index + 1)
        }
        cacheLock.lock()
        if cache.count > 100_000 { cache.removeAll(keepingCapacity: true) }
        cache[word] = parts
        cacheLock.unlock()
        return parts
    }

    /// GPT-2's reversible map from bytes to printable characters.
    static func byteToCharacter() -> [Unicode.Scalar] {
        var printable = Array(33...126) + Array(161...172) + Array(174...255)
        var characters = printable
        var extra = 0
        for byte in 0..<256 where !printable.contains(byte) {
            printable.append(byte)
            characters.append(256 + extra)
            extra += 1
        }
        var map = [Unicode.Scalar](repeating: " ", count: 256)
        for (byte, character) in zip(printable, characters) { map[byte] = Unicode.Scalar(UInt32(character))! }
        return map
    }
}

/// SmolLM2's pre-tokenizer: every numeric character (Unicode Nd, Nl, No: `½` too) isolated, then the GPT-2 split pattern
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+` within each piece.
enum PreTokenizer {
    enum Kind { case letter, number, space, other }

    static func kind(_ scalar: Unicode.Scalar) -> Kind {
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return scalar.properties.isWhitespace ? .space : .other
        }
    }

    static func split(_ text: ArraySlice<Unicode.Scalar>) -> [ArraySlice<Unicode.Scalar>] {
        var pieces: [ArraySlice<Unicode.Scalar>] = []
        var start = text.startIndex
        for index in text.indices where kind(text[index]) == .number {
            if start < index { pattern(text[start..<index], into: &pieces) }
            pieces.append(text[index...index])
            start = index + 1
        }
        if start < text.endIndex { pattern(text[start..<text.endIndex], into: &pieces) }
        return pieces
    }

    private static let contractions: [[Unicode.Scalar]] = ["s", "t", "re", "ve", "m", "ll", "d"].map { Array($0.unicodeScalars) }

    static func pattern(_ text: ArraySlice<Unicode.Scalar>, into pieces: inout [ArraySlice<Unicode.Scalar>]) {
        var i = text.startIndex
        let end = text.endIndex
        func run(from start: Int, of wanted: Kind) -> Int {
            var j = start
            while j < end, kind(text[j]) == wanted { j += 1 }
            return j
        }
        while i < end {
            if text[i] == "'", let suffix = contractions.first(where: { suffix in
                i + suffix.count < end && zip(suffix.indices, suffix).allSatisfy { text[i + 1 + $0] == $1 }
            }) {
                pieces.append(text[i...i + suffix.count])
                i += suffix.count + 1
                continue
            }
            let current = kind(text[i])
            if current != .space || (text[i] == " " && i + 1 < end && kind(text[i + 1]) != .space) {
                // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional plain space, then a run of one kind.
                let body = current == .space ? i + 1 : i
                let stop = run(from: body, of: kind(text[body]))
                pieces.append(text[i..<stop])
                i = stop
                continue
            }
            // `\s+(?!\S)` then `\s+`: a run of white space that leaves its last character to the next token
            // when a non-space follows.
            let stop = run(from: i, of: .space)
            if stop < end, stop - i > 1 {
                pieces.append(text[i..<stop - 1])
                i = stop - 1
            } else {
                pieces.append(text[i..<stop])
                i = stop
            }
        }
    }
}
