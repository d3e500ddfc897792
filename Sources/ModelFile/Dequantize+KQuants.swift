/// Decoders for ggml's k-quants: 256-element super-blocks split into 16 or 8 sub-blocks.
///
/// A super-block has one or two f16 factors (`d`, and `dmin` for the types with offsets), and
/// each sub-block has its own small integer scale (and minimum) that is multiplied by them, so
/// sub-block scales cost 4–8 bits instead of 16. The value of element e in sub-block s is
/// `(d × scale[s]) × q[e] − dmin × min[s]`, or without the offset term for Q3_K and Q6_K.
///
/// The quants are packed in 128-element halves, 32 elements at a time: the 2 bits of Q2_K
/// for elements `l`, `l+32`, `l+64`, `l+96` of a half share byte `l`, at shifts 0, 2, 4, 6.
extension Dequantize {
    /// Q2_K: 16 bytes of 4-bit scale/min pairs, 64 bytes of 2-bit quants, d, dmin.
    static func q2_K(_ source: UnsafeRawPointer, _ blockCount: Int, _ destination: UnsafeMutablePointer<Float>) {
        for block in 0..<blockCount {
            let x = source + block * 84
            let y = destination + block * 256
            let d = x.half(80)
            let dmin = x.half(82)
            for half in 0..<2 {
                for shift in 0..<4 {
                    for sub in 0..<2 {
                        // 16 elements share a scale (low nibble) and min (high nibble).
                        let subBlock = half * 8 + shift * 2 + sub
                        let scaleAndMin = x.byte(subBlock)
                        let scale = d * Float(scaleAndMin & 0x0F)
                        let minimum = dmin * Float(scaleAndMin >> 4)
                        let out = y + half * 128 + shift * 32 + sub * 16
                        for l in 0..<16 {
                            let q = (x.byte(16 + half * 32 + sub * 16 + l) &>> (2 * shift)) & 3
                            out[l] = scale * Float(q) - minimum
                        }
                    }
                }
            }
        }
    }

    /// Q3_K: 32 bytes of high bits, 64 bytes of low 2 bits, 12 bytes of 6-bit scales, d.
    ///
    /// A 3-bit quant is its two low bits minus 4 unless its high bit is set, giving −4…3.
    static func q3_K(_ source: UnsafeRawPointer, _ blockCount: Int, _ destination: UnsafeMutablePointer<Float>) {
        for block in 0..<blockCount {
            let x = source + block * 110
            let y = destination + block * 256
            let d = x.half(108)
            for half in 0..<2 {
                for shift in 0..<4 {
                    // Bit (half × 4 + shift) of high-mask byte l belongs to element l of this run of 32.
                    let highBit = half * 4 + shift
                    for sub in 0..<2 {
                        let scale = d * Float(q3_KScale(x + 96, half * 8 + shift * 2 + sub))
                        let out = y + half * 128 + shift * 32 + sub * 16
                        for l in 0..<16 {
                            let low = Int32((x.byte(32 + half * 32 + sub * 16 + l) &>> (2 * shift)) & 3)
                            let high = (x.byte(sub * 16 + l) &>> highBit) & 1
                            out[l] = scale * Float(high == 0 ? low &- 4 : low)
                        }
                    }
                }
            }
        }
    }

    /// Sub-block `sub`'s signed 6-bit scale in Q3_K's 12-byte table: the low nibbles of bytes
    /// 0–7 hold the low four bits of scales 0–7, their high nibbles those of scales 8–15, and
    /// bytes 8–11 the top two bits of four scales each; the stored value is offset by 32.
    @inline(__always)
    private static func q3_KScale(_ table: UnsafeRawPointer, _ sub: Int) -> Int32 {
        let low = (table.byte(sub % 8) &>> (4 * (sub / 8))) & 0x0F
        let high = (table.byte(8 + sub % 4) &>> (2 * (sub / 4))) & 0x03
        return Int32(low | high << 4) - 32
    }

    /// Q4_K: d, dmin, 12 bytes of 6-bit scales and mins, 128 bytes of nibbles.
    ///
    /// Eight sub-blocks of 32: sub-blocks 2c and 2c+1 take the low and high nibbles of bytes
    /// 32c…32c+31.
    static func q4_K(_ source: UnsafeRawPointer, _ blockCount: Int, _ destination: UnsafeMutablePointer<Float>) {
        for block in 0..<blockCount {
            let x = source + block * 144
            let y = destination + block * 256
            let d = x.half(0)
            let dmin = x.half(2)
            for sub in 0..<8 {
                let (scale6, min6) = kQuantScaleAndMin(x + 4, sub)
                let scale = d * Float(scale6)
                let minimum = dmin * Float(min6)
                let shift = 4 * (sub % 2)
                let quants = x + 16 + 32 * (sub / 2)
                let out = y + 32 * sub
                for l in 0..<32 {
                    out[l] = scale * Float((quants.byte(l) &>> shift) & 0x0F) - minimum
                }
            }
        }
    }

    /// Q5_K: like Q4_K, plus 32 bytes of fifth bits (bit `sub` of byte l for element l of sub-block `sub`).
    static func q5_K(_ source: UnsafeRawPointer, _ blockCount: Int, _ destination: UnsafeMutablePointer<Float>) {
        for block in 0..<blockCount {
            let x = source + block * 176
            let y = destination + block * 256
            let d = x.half(0)
            let dmin = x.half(2)
            for sub in 0..<8 {
                let (scale6, min6) = kQuantScaleAndMin(x + 4, sub)
                let scale = d * Float(scale6)
                let minimum = dmin * Float(min6)
                let shift = 4 * (sub % 2)
                let quants = x + 48 + 32 * (sub / 2)
                let out = y + 32 * sub
                for l in 0..<32 {
                    let low = (quants.byte(l) &>> shift) & 0x0F
                    let high = (x.byte(16 + l) &>> sub) & 1
                    out[l] = scale * Float(low | high << 4) - minimum
                }
            }
        }
    }

    /// Sub-block `sub`'s 6-bit scale and min in the 12-byte table shared by Q4_K and Q5_K.
    ///
    /// Bytes 0–3 hold scales 0–3 and bytes 4–7 mins 0–3 in their low six bits; scales and
    /// mins 4–7 take their low four bits from the nibbles of bytes 8–11 and their top two
    /// bits from the spare top bits of bytes 0–3 and 4–7.
    @inline(__always)
    private static func kQuantScaleAndMin(_ table: UnsafeRawPointer, _ sub: Int) -> (UInt8, UInt8) {
        if sub < 4 {
            return (table.byte(sub) & 0x3F, table.byte(sub + 4) & 0x3F)
        }
        let scale = (table.byte(sub + 4) & 0x0F) | (table.byte(sub - 4) &>> 6) << 4
        let minimum = (table.byte(sub + 4) &>> 4) | (table.byte(sub) &>> 6) << 4
        return (scale, minimum)
    }

    /// Q6_K: 128 bytes of low nibbles, 64 bytes of high 2-bit pairs, 16 signed 8-bit scales, d.
    ///
    /// In each half, element k × 32 + l takes its low nibble from byte (k % 2) × 32 + l (low
    /// nibble for k < 2, high for k ≥ 2) and its top two bits from byte l at shift 2k; the
    /// 6-bit result is centred by subtracting 32.
    static func q6_K(_ source: UnsafeRawPointer, _ blockCount: Int, _ destination: UnsafeMutablePointer<Float>) {
        for block in 0..<blockCount {
            let x = source + block * 210
            let y = destination + block * 256
            let d = x.half(208)
            for half in 0..<2 {
                let lowBytes = x + half * 64
                let highBytes = x + 128 + half * 32
                for k in 0..<4 {
                    let lowShift = 4 * (k / 2)
                    for sub in 0..<2 {
                        let scale = d * Float(Int8(bitPattern: x.byte(192 + half * 8 + k * 2 + sub)))
                        let out = y + half * 128 + k * 32 + sub * 16
                        for l in 0..<16 {
                            let i = sub * 16 + l
                            let low = (lowBytes.byte((k % 2) * 32 + i) &>> lowShift) & 0x0F
                            let high = (highBytes.byte(i) &>> (2 * k)) & 0x03
                            out[l] = scale * Float(Int32(low | high << 4) - 32)
                        }
                    }
                }
            }
        }
    }
}
