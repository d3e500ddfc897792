/// Every f16 bit pattern widened to `Float`, built on first use (256 KB).
///
/// The x86-64 baseline that Swift compiles for has no f16 instructions, so each `Float16` to
/// `Float` conversion is a library call; looking the result up is about ten times faster,
/// which matters for f16 models, whose every weight needs one. (Block scales don't: there is
/// one per 32 or 256 weights.)
private let floatForHalfBits: [Float] = (0...UInt16.max).map { Float(Float16(bitPattern: $0)) }

/// Decoders for the unquantized float types, whose "blocks" are single elements.
extension Dequantize {
    static func f32(_ source: UnsafeRawPointer, _ count: Int, _ destination: UnsafeMutablePointer<Float>) {
        // File and host are both little-endian IEEE, so the bytes are already the floats.
        UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * MemoryLayout<Float>.size)
    }

    static func f16(_ source: UnsafeRawPointer, _ count: Int, _ destination: UnsafeMutablePointer<Float>) {
        floatForHalfBits.withUnsafeBufferPointer { table in
            for i in 0..<count {
                destination[i] = table[Int(UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))]
            }
        }
    }

    /// bfloat16 is the top half of a `Float`, so widening is a shift.
    static func bf16(_ source: UnsafeRawPointer, _ count: Int, _ destination: UnsafeMutablePointer<Float>) {
        for i in 0..<count {
            let bits = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
            destination[i] = Float(bitPattern: UInt32(bits) << 16)
        }
    }
}
