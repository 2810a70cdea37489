import Foundation

/// Every activation the backward pass needs for one sequence of up to `capacity` tokens, allocated once and
/// reused: a training step then allocates nothing, and pages are touched once rather than per sequence.
/// Buffers are laid out for `capacity` rows; a shorter sequence uses the front of each.
///
/// Memory is linear in the length: attention keeps a log-sum-exp per row and head, not its T² probabilities
/// (`CausalAttention`), and the logits exist one chunk of rows at a time (`OutputLoss`). With
/// `recomputesLayers`, only each layer's input is kept and one set of layer buffers is shared by all layers:
/// the backward pass runs each layer's forward again before its backward (activation checkpointing), which
/// costs about one more forward pass and saves (layers − 1) layers' activations.
public final class TrainingWorkspace {
    public let capacity: Int
    public let recomputesLayers: Bool
    let config: LlamaConfig

    /// One layer's saved values; with `recomputesLayers` every layer has its own `input` and shares the rest.
    struct Layer {
        var input, normed1, rms1, query, key, value, logSumExp, attention, middle, normed2, rms2, gate, up, activated: UnsafeMutablePointer<Float>
    }

    let layers: [Layer]
    let output, finalNormed, finalRMS: UnsafeMutablePointer<Float>
    // Backward scratch, shared by every layer.
    let dx, dNormed, dActivated, dGate, dUp, dAttention, dQuery, dKey, dValue: UnsafeMutablePointer<Float>
    let attentionScratch, logitScratch: UnsafeMutablePointer<Float>
    private let storage: UnsafeMutableBufferPointer<Float>

    /// Floats of one layer's saved values, `input` included.
    static func layerFloats(config c: LlamaConfig, capacity T: Int) -> Int {
        6 * T * c.dimension + 2 * T * c.kvDimension + (2 + c.heads) * T + 3 * T * c.hiddenDimension
    }

    /// Floats needed for `capacity` tokens of `config`'s model.
    public static func floats(config c: LlamaConfig, capacity T: Int, recomputesLayers: Bool) -> Int {
        let d = c.dimension, kv = c.kvDimension, h = c.hiddenDimension
        let layerValues = recomputesLayers ? c.layers * T * d + layerFloats(config: c, capacity: T) - T * d
                                           : c.layers * layerFloats(config: c, capacity: T)
        let shared = 2 * T * d + T + 4 * T * d + 3 * T * h + 2 * T * kv
        return layerValues + shared + CausalAttention.scratchFloats(rows: T)
            + OutputLoss.scratchFloats(vocabulary: c.vocabulary, rows: T)
    }

    /// Whether keeping every layer's activations for `capacity` tokens would take more than `budgetBytes`.
    public static func needsRecomputation(config: LlamaConfig, capacity: Int, budgetBytes: Int) -> Bool {
        floats(config: config, capacity: capacity, recomputesLayers: false) * MemoryLayout<Float>.size > budgetBytes
    }

    public init(config c: LlamaConfig, capacity T: Int, recomputesLayers: Bool = false) {
        self.capacity = T
        self.recomputesLayers = recomputesLayers
        config = c
        let d = c.dimension, kv = c.kvDimension, h = c.hiddenDimension
        storage = .allocate(capacity: Self.floats(config: c, capacity: T, recomputesLayers: recomputesLayers))
        var next = storage.baseAddress!
        func take(_ count: Int) -> UnsafeMutablePointer<Float> {
            defer { next += count }
            return next
        }
        func layer(input: UnsafeMutablePointer<Float>) -> Layer {
            Layer(input: input, normed1: take(T * d), rms1: take(T), query: take(T * d), key: take(T * kv), value: take(T * kv),
                  logSumExp: take(c.heads * T), attention: take(T * d), middle: take(T * d), normed2: take(T * d), rms2: take(T),
                  gate: take(T * h), up: take(T * h), activated: take(T * h))
        }
        if recomputesLayers {
            let inputs = (0..<c.layers).map { _ in take(T * d) }
            let shared = layer(input: inputs[0])
            layers = inputs.map { input in
                var own = shared
                own.input = input
                return own
            }
        } else {
            layers = (0..<c.layers).map { _ in layer(input: take(T * d)) }
        }
        output = take(T * d)
        finalNormed = take(T * d)
        finalRMS = take(T)
        dx = take(T * d)
        dNormed = take(T * d)
        dAttention = take(T * d)
        dQuery = take(T * d)
        dActivated = take(T * h)
        dGate = take(T * h)
        dUp = take(T * h)
        dKey = take(T * kv)
        dValue = take(T * kv)
        attentionScratch = take(CausalAttention.scratchFloats(rows: T))
        logitScratch = take(OutputLoss.scratchFloats(vocabulary: c.vocabulary, rows: T))
        precondition(next == storage.baseAddress! + storage.count)
    }

    deinit { storage.deallocate() }
}
