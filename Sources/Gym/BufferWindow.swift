import Tasks

/// How much of a task buffer self-play draws references and solver tasks from. The buffer's file keeps every
/// triple either way (for replay and export); the window only limits sampling. The AZR reference caps its
/// buffers by keeping the oldest programs, so late training keeps drawing the earliest, easiest tasks; keeping
/// the newest is our default, and `oldest` reproduces the reference for comparisons.
public struct BufferWindow: Codable, Sendable, Equatable {
    public enum Keep: String, Codable, Sendable, CaseIterable {
        case newest, oldest
    }

    /// At most this many triples per buffer are drawn from; 0 means all of them.
    public var capacity: Int
    public var keep: Keep

    public init(capacity: Int = 0, keep: Keep = .newest) {
        self.capacity = capacity
        self.keep = keep
    }

    /// The triples to draw from, in buffer (creation) order.
    public func apply(_ triples: [Triple]) -> ArraySlice<Triple> {
        guard capacity > 0, triples.count > capacity else { return triples[...] }
        return keep == .newest ? triples.suffix(capacity) : triples.prefix(capacity)
    }
}
