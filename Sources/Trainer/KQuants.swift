/// llama.cpp's 256-value "k-quant" super-blocks to fp32, as Qwen's and most community GGUF files use them.
///
/// Q4_K and Q5_K split a super-block into eight 32-value sub-blocks, each with a 6-bit scale and a 6-bit
/// minimum packed into 12 bytes and multiplied by the block's f16 `d` and `dmin`; a value is
/// `d·scale·q − dmin·min`. Q6_K has sixteen 16-value sub-blocks with signed 8-bit scales and 6-bit values
/// centred on 32. Layouts follow ggml's `block_q4_K`, `block_q5_K` and `block_q6_K`.
enum KQuants {
    static func run(_ type: GGMLType, from source: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<Float>) {
        let bytes = type.block.bytes
        for block in 0..<out.count / 256 {
            let base = source.baseAddress! + block * bytes
            let target = out.baseAddress! + block * 256
            switch type {
            case .q4_K: fourBit(UnsafeRawBufferPointer(start: base, count: bytes), into: target, fifthBit: false)
            case .q5_K: fourBit(UnsafeRawBufferPointer(start: base, count: bytes), into: target, fifthBit: true)
            case .q6_K: sixBit(UnsafeRawBufferPointer(start: base, count: bytes), into: target)
            default: preconditionFailure("\(type) is not a k-quant")
            }
        }
    }

    /// Q4_K: d, dmin (f16), scales[12], qs[128]. Q5_K adds qh[32] (the fifth bits) between scales and qs.
    private static func fourBit(_ block: UnsafeRawBufferPointer, into out: UnsafeMutablePointer<Float>, fifthBit: Bool) {
        let d = Dequantize.half(block, 0), dmin = Dequantize.half(block, 2)
        let scales = 4, high = 16, quants = fifthBit ? 48 : 16
        var mask1: UInt8 = 1, mask2: UInt8 = 2
        for chunk in 0..<4 {
            let (scale1, min1) = scaleAndMin(block, scales, 2 * chunk)
            let (scale2, min2) = scaleAndMin(block, scales, 2 * chunk + 1)
            let d1 = d * Float(scale1), m1 = dmin * Float(min1), d2 = d * Float(scale2), m2 = dmin * Float(min2)
            let q = quants + 32 * chunk, y = out + 64 * chunk
            for l in 0..<32 {
                let byte = block[q + l]
                var low = Int(byte & 0x0F), top = Int(byte >> 4)
                if fifthBit {
                    let bits = block[high + l]
                    if bits & mask1 != 0 { low += 16 }
                    if bits & mask2 != 0 { top += 16 }
                }
                y[l] = d1 * Float(low) - m1
                y[l + 32] = d2 * Float(top) - m2
            }
            mask1 <<= 2
            mask2 <<= 2
        }
    }

    /// The j-th of eight 6-bit (scale, min) pairs in the 12-byte table: pairs 0–3 sit in the low six bits of
    /// bytes 0–3 and 4–7; pairs 4–7 take their low four bits from bytes 8–11 and their top two from the spare
    /// high bits of bytes 0–7.
    @inline(__always)
    private static func scaleAndMin(_ block: UnsafeRawBufferPointer, _ table: Int, _ j: Int) -> (UInt8, UInt8) {
        let q = { (i: Int) in block[table + i] }
        if j < 4 { return (q(j) & 63, q(j + 4) & 63) }
        return ((q(j + 4) & 0x0F) | ((q(j - 4) >> 6) << 4), (q(j + 4) >> 4) | ((q(j) >> 6) << 4))
    }

    /// Q6_K: ql[128] (low four bits), qh[64] (top two bits), scales[16] (int8), d (f16).
    private static func sixBit(_ block: UnsafeRawBufferPointer, into out: UnsafeMutablePointer<Float>) {
        let d = Dequantize.half(block, 208)
        for half in 0..<2 {
            let ql = 64 * half, qh = 128 + 32 * half, scales = 192 + 8 * half, y = out + 128 * half
            let scale = { (i: Int) in d * Float(Int8(bitPattern: block[scales + i])) }
            for l in 0..<32 {
                let s = l / 16, bits = block[qh + l]
                let q1 = Int(block[ql + l] & 0x0F) | Int(bits & 3) << 4
                let q2 = Int(block[ql + l + 32] & 0x0F) | Int((bits >> 2) & 3) << 4
                let q3 = Int(block[ql + l] >> 4) | Int((bits >> 4) & 3) << 4
                let q4 = Int(block[ql + l + 32] >> 4) | Int((bits >> 6) & 3) << 4
                y[l] = scale(s) * Float(q1 - 32)
                y[l + 32] = scale(s + 2) * Float(q2 - 32)
                y[l + 64] = scale(s + 4) * Float(q3 - 32)
                y[l + 96] = scale(s + 6) * Float(q4 - 32)
            }
        }
    }
}
