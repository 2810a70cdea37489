import Foundation

/// Every activation the backward pass needs for one sequence of up to `capacity` tokens, allocated once and
/// reused: a training step then allocates nothing, and pages are touched once rather than per sequence.
/// Buffers are laid out for `capacity` rows; a shorter sequence uses the front of each.
public final class TrainingWorkspace {
    public let capacity: Int
    let config: LlamaConfig

    /// Per layer.
    struct Layer {
        var input, normed1, rms1, query, key, value, probabilities, attention, middle, normed2, rms2, gate, up, activated: UnsafeMutablePointer<Float>
    }

    let layers: [Layer]
    let output, finalNormed, finalRMS, logits: UnsafeMutablePointer<Float>
    // Backward scratch, shared by every layer.
    let dx, dNormed, dActivated, dGate, dUp, dAttention, dQuery, dKey, dValue, dScores: UnsafeMutablePointer<Float>
    private let storage: UnsafeMutableBufferPointer<Float>

    /// Floats needed for `capacity` tokens of `config`'s model.
    public static func floats(config c: LlamaConfig, capacity T: Int) -> Int {
        let d = c.dimension, kv = c.kvDimension, h = c.hiddenDimension
        let perLayer = 6 * T * d + 2 * T + 2 * T * kv + c.heads * T * T + 3 * T * h
        let shared = 2 * T * d + T + T * c.vocabulary + 4 * T * d + 3 * T * h + 2 * T * kv + T * T
        return c.layers * perLayer + shared
    }

    public init(config c: LlamaConfig, capacity T: Int) {
        self.capacity = T
        config = c
        let d = c.dimension, kv = c.kvDimension, h = c.hiddenDimension
        storage = .allocate(capacity: Self.floats(config: c, capacity: T))
        var next = storage.baseAddress!
        func take(_ count: Int) -> UnsafeMutablePointer<Float> {
            defer { next += count }
            return next
        }
        layers = (0..<c.layers).map { _ in
            Layer(input: take(T * d), normed1: take(T * d), rms1: take(T), query: take(T * d), key: take(T * kv),
                  value: take(T * kv), probabilities: take(c.heads * T * T), attention: take(T * d), middle: take(T * d),
                  normed2: take(T * d), rms2: take(T), gate: take(T * h), up: take(T * h), activated: take(T * h))
        }
        output = take(T * d)
        finalNormed = take(T * d)
        finalRMS = take(T)
        logits = take(T * c.vocabulary)
        dx = take(T * d)
        dNormed = take(T * d)
        dAttention = take(T * d)
        dQuery = take(T * d)
        dActivated = take(T * h)
        dGate = take(T * h)
        dUp = take(T * h)
        dKey = take(T * kv)
        dValue = take(T * kv)
        dScores = take(T * T)
        precondition(next == storage.baseAddress! + storage.count)
    }

    deinit { storage.deallocate() }
}
