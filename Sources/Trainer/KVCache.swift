import Foundation

/// Keys and values of every processed position, per layer, so decoding a token costs one position's work.
///
/// A cache can continue another (`prefix`): its first `prefix.length` positions are read from that cache and
/// only the later ones are stored here, so many samples of one prompt share the prompt's prefill and its keys
/// and values. The prefix must not grow while a continuation reads it.
public final class KVCache {
    /// Positions in all, the prefix's included.
    public let capacity: Int
    public private(set) var length: Int
    /// The cache this one continues, and how many of its positions it reads.
    let prefix: KVCache?
    let prefixLength: Int
    let keys: UnsafeMutableBufferPointer<Float>
    let values: UnsafeMutableBufferPointer<Float>
    let layerStride: Int
    let kvDimension: Int

    public init(config: LlamaConfig, capacity: Int, prefix: KVCache? = nil) {
        precondition(capacity >= (prefix?.length ?? 0), "the prefix is longer than the capacity")
        self.capacity = capacity
        self.prefix = prefix
        prefixLength = prefix?.length ?? 0
        length = prefixLength
        kvDimension = config.kvDimension
        layerStride = (capacity - prefixLength) * config.kvDimension
        keys = .allocate(capacity: max(1, config.layers * layerStride))
        values = .allocate(capacity: max(1, config.layers * layerStride))
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    /// Forgets every position after the prefix.
    public func reset() { length = prefixLength }
    func advance(by count: Int) { length += count }

    /// Contiguous runs of keys and values of `layer` for positions 0 ..< `length` (the prefix's run, then this
    /// cache's own), each as (first position, count, keys, values), rows of `kvDimension` floats.
    func segments(layer: Int, length: Int) -> [(first: Int, count: Int, keys: UnsafeMutablePointer<Float>, values: UnsafeMutablePointer<Float>)] {
        var result: [(Int, Int, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>)] = []
        if let prefix, prefixLength > 0 {
            result += prefix.segments(layer: layer, length: min(length, prefixLength))
        }
        if length > prefixLength {
            result.append((prefixLength, length - prefixLength, keys.baseAddress! + layer * layerStride, values.baseAddress! + layer * layerStride))
        }
        return result
    }

    /// Where this cache stores position `position` (≥ the prefix) of `layer`.
    func ownRow(layer: Int, position: Int) -> (keys: UnsafeMutablePointer<Float>, values: UnsafeMutablePointer<Float>) {
        let offset = layer * layerStride + (position - prefixLength) * kvDimension
        return (keys.baseAddress! + offset, values.baseAddress! + offset)
    }
}
