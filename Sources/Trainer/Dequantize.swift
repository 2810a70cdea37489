/// Block formats to fp32. Each 32-value block stores its scale (and, for Q4_1 and Q5_1, its minimum) as f16,
/// then the quantised values; Q4 and Q5 pack two values a byte, low nibbles first (elements 0–15), then high
/// (16–31), and Q5 keeps each value's fifth bit in a 32-bit mask. The 256-value k-quants are in KQuants.swift.
enum Dequantize {
    static func run(_ type: GGMLType, from source: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<Float>) {
        switch type {
        case .f32:
            for i in 0..<out.count { out[i] = Float(bitPattern: source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
        case .f16:
            for i in 0..<out.count { out[i] = Float(Float16(bitPattern: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
        case .bf16:
            for i in 0..<out.count {
                out[i] = Float(bitPattern: UInt32(source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16)
            }
        case .q8_0:
            for block in 0..<out.count / 32 {
                let base = block * 34
                let scale = half(source, base)
                for j in 0..<32 { out[block * 32 + j] = scale * Float(Int8(bitPattern: source[base + 2 + j])) }
            }
        case .q4_0:
            for block in 0..<out.count / 32 {
                let base = block * 18
                let scale = half(source, base)
                for j in 0..<16 {
                    let byte = source[base + 2 + j]
                    out[block * 32 + j] = scale * Float(Int(byte & 0x0F) - 8)
                    out[block * 32 + j + 16] = scale * Float(Int(byte >> 4) - 8)
                }
            }
        case .q4_1:
            for block in 0..<out.count / 32 {
                let base = block * 20
                let scale = half(source, base), minimum = half(source, base + 2)
                for j in 0..<16 {
                    let byte = source[base + 4 + j]
                    out[block * 32 + j] = Float(byte & 0x0F) * scale + minimum
                    out[block * 32 + j + 16] = Float(byte >> 4) * scale + minimum
                }
            }
        case .q5_0, .q5_1:
            let withMinimum = type == .q5_1, bytes = type.block.bytes, header = withMinimum ? 4 : 2
            for block in 0..<out.count / 32 {
                let base = block * bytes
                let scale = half(source, base), minimum = withMinimum ? half(source, base + 2) : 0
                let high = source.loadUnaligned(fromByteOffset: base + header, as: UInt32.self).littleEndian
                let offset = withMinimum ? 0 : 16
                for j in 0..<16 {
                    let byte = source[base + header + 4 + j]
                    let low = Int(byte & 0x0F) | Int((high >> UInt32(j)) & 1) << 4
                    let top = Int(byte >> 4) | Int((high >> UInt32(j + 16)) & 1) << 4
                    out[block * 32 + j] = Float(low - offset) * scale + minimum
                    out[block * 32 + j + 16] = Float(top - offset) * scale + minimum
                }
            }
        case .q4_K, .q5_K, .q6_K:
            KQuants.run(type, from: source, into: out)
        }
    }

    @inline(__always)
    static func half(_ source: UnsafeRawBufferPointer, _ offset: Int) -> Float {
        Float(Float16(bitPattern: source.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }
}
