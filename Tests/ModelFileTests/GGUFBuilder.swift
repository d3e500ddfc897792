/// Writes GGUF files byte by byte, so a test can make exactly the valid or broken file it needs.
///
/// Every field is settable, including ones a real writer would compute (counts, offsets),
/// and metadata values are raw type codes and payloads, so a file can lie in any way.
struct GGUFBuilder {
    struct Tensor {
        var name: String
        var dims: [UInt64]
        var type: UInt32
        /// The bytes placed at the tensor's offset; leave empty to make a tensor whose data is missing.
        var data: [UInt8]
        /// Relative to the data section; nil places the tensor after the previous one, aligned.
        var offset: UInt64? = nil
    }

    var magic = Array("GGUF".utf8)
    var version: UInt32 = 3
    var metadata: [(key: String, type: UInt32, payload: [UInt8])] = []
    var tensors: [Tensor] = []
    /// Used to lay out the data section; a file that changes it must also say so in `general.alignment`.
    var alignment = 32

    mutating func add(_ key: String, type: UInt32, payload: [UInt8]) {
        metadata.append((key, type, payload))
    }

    mutating func add(_ key: String, string: String) {
        add(key, type: 8, payload: ggufString(string))
    }

    mutating func add(_ key: String, uint32: UInt32) {
        add(key, type: 4, payload: bytesLE(uint32))
    }

    /// A small valid file: a string, an integer and a string array of metadata, an F32 tensor
    /// of 2 rows of 4 and a Q8_0 tensor of 2 rows of 32.
    static func sample() -> GGUFBuilder {
        var builder = GGUFBuilder()
        builder.add("general.architecture", string: "llama")
        builder.add("llama.block_count", uint32: 2)
        builder.add("tokenizer.ggml.tokens", type: 9, payload: bytesLE(UInt32(8)) + bytesLE(UInt64(2)) + ggufString("a") + ggufString("bc"))
        let floats: [Float] = [1, -2, 0.5, 3, 0, -0.25, 8, 1e-3]
        builder.tensors.append(Tensor(name: "a", dims: [4, 2], type: 0, data: floats.flatMap { bytesLE($0.bitPattern) as [UInt8] }))
        let quants = (0..<32).map { (j: Int) -> UInt8 in UInt8(truncatingIfNeeded: j * 7 - 100) }
        let q8Block = bytesLE(Float16(0.5).bitPattern) + quants
        builder.tensors.append(Tensor(name: "b", dims: [32, 2], type: 8, data: q8Block + q8Block))
        return builder
    }

    func build() -> [UInt8] {
        var bytes = magic
        bytes += bytesLE(version)
        bytes += bytesLE(UInt64(tensors.count))
        bytes += bytesLE(UInt64(metadata.count))
        for (key, type, payload) in metadata {
            bytes += ggufString(key)
            bytes += bytesLE(type)
            bytes += payload
        }
        var nextOffset: UInt64 = 0
        var offsets: [UInt64] = []
        for tensor in tensors {
            let offset = tensor.offset ?? nextOffset
            offsets.append(offset)
            nextOffset = padded(offset &+ UInt64(tensor.data.count))
            bytes += ggufString(tensor.name)
            bytes += bytesLE(UInt32(tensor.dims.count))
            for dim in tensor.dims { bytes += bytesLE(dim) }
            bytes += bytesLE(tensor.type)
            bytes += bytesLE(offset)
        }
        bytes += [UInt8](repeating: 0, count: Int(padded(UInt64(bytes.count))) - bytes.count)
        let dataStart = bytes.count
        for (tensor, offset) in zip(tensors, offsets) where !tensor.data.isEmpty {
            let start = dataStart + Int(offset)
            if bytes.count < start + tensor.data.count {
                bytes += [UInt8](repeating: 0, count: start + tensor.data.count - bytes.count)
            }
            bytes.replaceSubrange(start..<start + tensor.data.count, with: tensor.data)
        }
        return bytes
    }

    /// Rounded up to the alignment; wraps rather than traps, as tests use offsets near `UInt64.max`.
    private func padded(_ offset: UInt64) -> UInt64 {
        (offset &+ UInt64(alignment) &- 1) / UInt64(alignment) &* UInt64(alignment)
    }
}

/// The little-endian bytes of an integer.
func bytesLE(_ value: some FixedWidthInteger) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

/// A GGUF string: its byte count as a uint64, then its UTF-8.
func ggufString(_ string: String) -> [UInt8] {
    bytesLE(UInt64(string.utf8.count)) + Array(string.utf8)
}
