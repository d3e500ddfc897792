/// Decoders for the unquantized float types, whose "blocks" are single elements.
extension Dequantize {
    static func f32(_ source: UnsafeRawPointer, _ count: Int, _ destination: UnsafeMutablePointer<Float>) {
        // File and host are both little-endian IEEE, so the bytes are already the floats.
        UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * MemoryLayout<Float>.size)
    }

    static func f16(_ source: UnsafeRawPointer, _ count: Int, _ destination: UnsafeMutablePointer<Float>) {
        for i in 0..<count {
            destination[i] = source.half(2 * i)
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
