/// Decoders for ggml's original 32-element block formats.
///
/// Each block has an f16 scale `d` (and for the `_1` types an f16 offset `m`), then 32 small
/// integers `q`: the value is `d × q` for symmetric types, whose `q` is centred by subtracting
/// half its range, and `d × q + m` for the `_1` types. 4-bit quants pack two per byte, the low
/// nibbles holding elements 0–15 and the high nibbles 16–31; the 5-bit types keep every
/// element's fifth bit in one `uint32` (bit i for element i).
extension Dequantize {
    /// Q4_0: d, 16 bytes of nibbles; value = d × (q − 8).
    static func q4_0(_ source: UnsafeRawPointer, _ blockCount: Int, _ destination: UnsafeMutablePointer<Float>) {
        for block in 0..<blockCount {
            let x = source + block * 18
            let y = destination + block * 32
            let d = x.half(0)
            for j in 0..<16 {
                let packed = x.byte(2 + j)
                y[j] = Float(Int32(packed & 0x0F) - 8) * d
                y[j + 16] = Float(Int32(packed >> 4) - 8) * d
            }
        }
    }

    /// Q4_1: d, m, 16 bytes of nibbles; value = d × q + m.
    static func q4_1(_ source: UnsafeRawPointer, _ blockCount: Int, _ destination: UnsafeMutablePointer<Float>) {
        for block in 0..<blockCount {
            let x = source + block * 20
            let y = destination + block * 32
            let d = x.half(0)
            let m = x.half(2)
            for j in 0..<16 {
                let packed = x.byte(4 + j)
                y[j] = Float(packed & 0x0F) * d + m
                y[j + 16] = Float(packed >> 4) * d + m
            }
        }
    }

    /// Q5_0: d, the 32 fifth bits, 16 bytes of nibbles; value = d × (q − 16).
    static func q5_0(_ source: UnsafeRawPointer, _ blockCount: Int, _ destination: UnsafeMutablePointer<Float>) {
        for block in 0..<blockCount {
            let x = source + block * 22
            let y = destination + block * 32
            let d = x.half(0)
            let high = UInt32(littleEndian: x.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
            for j in 0..<16 {
                let packed = x.byte(6 + j)
                let low = Int32(packed & 0x0F) | Int32((high >> j) & 1) << 4
                let upper = Int32(packed >> 4) | Int32((high >> (j + 16)) & 1) << 4
                y[j] = Float(low - 16) * d
                y[j + 16] = Float(upper - 16) * d
            }
        }
    }

    /// Q5_1: d, m, the 32 fifth bits, 16 bytes of nibbles; value = d × q + m.
    static func q5_1(_ source: UnsafeRawPointer, _ blockCount: Int, _ destination: UnsafeMutablePointer<Float>) {
        for block in 0..<blockCount {
            let x = source + block * 24
            let y = destination + block * 32
            let d = x.half(0)
            let m = x.half(2)
            let high = UInt32(littleEndian: x.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            for j in 0..<16 {
                let packed = x.byte(8 + j)
                let low = UInt32(packed & 0x0F) | ((high >> j) & 1) << 4
                let upper = UInt32(packed >> 4) | ((high >> (j + 16)) & 1) << 4
                y[j] = Float(low) * d + m
                y[j + 16] = Float(upper) * d + m
            }
        }
    }

    /// Q8_0: d, 32 signed bytes; value = d × q.
    static func q8_0(_ source: UnsafeRawPointer, _ blockCount: Int, _ destination: UnsafeMutablePointer<Float>) {
        for block in 0..<blockCount {
            let x = source + block * 34
            let y = destination + block * 32
            let d = x.half(0)
            for j in 0..<32 {
                y[j] = Float(Int8(bitPattern: x.byte(2 + j))) * d
            }
        }
    }
}
