import Engine
import ModelFile
import Parallel

/// Heap buffers holding a float model's weights, released together with the `ModelWeights` that uses them.
final class FloatStorage: @unchecked Sendable {
    private var buffers: [UnsafeMutablePointer<Float>] = []
    /// Whatever else the weights point into (a mapped file).
    var keepAlive: AnyObject?

    func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
        buffers.append(buffer)
        return buffer
    }

    deinit { buffers.forEach { $0.deallocate() } }
}

extension ModelWeights {
    /// Every weight of `source` dequantized to float32: the reference path, and the input of calibration.
    public static func float(from source: ModelSource, pool: ThreadPool) throws -> ModelWeights {
        let config = source.config
        let storage = FloatStorage()
        func tensor(_ name: String, count expected: Int? = nil) throws -> UnsafeMutablePointer<Float> {
            guard let shape = source.shape(of: name) else { throw ModelSourceError.missingTensor(name) }
            let count = shape.reduce(1, *)
            if let expected, expected != count {
                throw ModelSourceError.invalid("tensor '\(name)' has \(count) values, the config implies \(expected)")
            }
            let buffer = storage.allocate(count)
            try source.readFloats(name, into: buffer, pool: pool)
            return buffer
        }
        func linear(_ name: String, rows: Int, cols: Int) throws -> LinearWeight {
            .f32(try tensor(name, count: rows * cols), rows: rows, cols: cols)
        }
        func optional(_ name: String, count: Int) throws -> UnsafePointer<Float>? {
            source.shape(of: name) == nil ? nil : UnsafePointer(try tensor(name, count: count))
        }
        let d = config.embeddingSize, q = config.heads * config.headSize, kv = config.kvSize, f = config.feedForwardSize
        let blocks = try (0..<config.layers).map { i in
            let p = "blk.\(i)."
            return BlockWeights(
                attentionNorm: try tensor(p + "attn_norm.weight", count: d),
                query: try linear(p + "attn_q.weight", rows: q, cols: d),
                key: try linear(p + "attn_k.weight", rows: kv, cols: d),
                value: try linear(p + "attn_v.weight", rows: kv, cols: d),
                queryBias: try optional(p + "attn_q.bias", count: q),
                keyBias: try optional(p + "attn_k.bias", count: kv),
                valueBias: try optional(p + "attn_v.bias", count: kv),
                attentionOutput: try linear(p + "attn_output.weight", rows: d, cols: q),
                feedForwardNorm: try tensor(p + "ffn_norm.weight", count: d),
                gate: try linear(p + "ffn_gate.weight", rows: f, cols: d),
                up: try linear(p + "ffn_up.weight", rows: f, cols: d),
                down: try linear(p + "ffn_down.weight", rows: d, cols: f))
        }
        let embedding = try tensor("token_embd.weight", count: config.vocabularySize * d)
        let output: LinearWeight = config.tiedEmbeddings
            ? .f32(embedding, rows: config.vocabularySize, cols: d)
            : try linear("output.weight", rows: config.vocabularySize, cols: d)
        return ModelWeights(config: config, embedding: .f32(embedding, cols: d), blocks: blocks,
                            outputNorm: try tensor("output_norm.weight", count: d), output: output, owner: storage)
    }
}
