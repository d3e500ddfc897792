import Engine
import ModelFile
import Parallel

/// Heap buffers holding float weights, released together: owned by a `ModelWeights`, or by
/// calibration while it works on one block.
public final class FloatStorage: @unchecked Sendable {
    private var buffers: [UnsafeMutablePointer<Float>] = []
    /// Whatever else the weights point into (a mapped file).
    var keepAlive: AnyObject?

    public init() {}

    /// Room for `count` floats, freed with the storage.
    public func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
        buffers.append(buffer)
        return buffer
    }

    deinit { buffers.forEach { $0.deallocate() } }
}

extension TensorLookup {
    /// Tensors of a source model read as float32 into `storage`.
    static func floats(from source: ModelSource, into storage: FloatStorage, pool: ThreadPool) -> TensorLookup {
        func tensor(_ name: String, _ expected: Int) throws -> UnsafeMutablePointer<Float> {
            guard let shape = source.shape(of: name) else { throw ModelSourceError.missingTensor(name) }
            let count = shape.reduce(1, *)
            guard expected == count else {
                throw ModelSourceError.invalid("tensor '\(name)' has \(count) values, the config implies \(expected)")
            }
            let buffer = storage.allocate(count)
            try source.readFloats(name, into: buffer, pool: pool)
            return buffer
        }
        return TensorLookup(
            vector: { name, count in UnsafePointer(try tensor(name, count)) },
            contains: { source.shape(of: $0) != nil },
            linear: { name, rows, cols in .f32(try tensor(name, rows * cols), rows: rows, cols: cols) })
    }
}

extension BlockWeights {
    /// Block `index` of `source` dequantized to float32 into `storage`: calibration holds one
    /// block's float weights at a time, never the whole model's.
    public static func float(_ index: Int, from source: ModelSource, into storage: FloatStorage, pool: ThreadPool) throws -> BlockWeights {
        try assemble(index, config: source.config, from: .floats(from: source, into: storage, pool: pool))
    }
}

extension ModelWeights {
    /// Every weight of `source` dequantized to float32: the reference path.
    public static func float(from source: ModelSource, pool: ThreadPool) throws -> ModelWeights {
        let config = source.config
        let storage = FloatStorage()
        let lookup = TensorLookup.floats(from: source, into: storage, pool: pool)
        let blocks = try (0..<config.layers).map { try BlockWeights.assemble($0, config: config, from: lookup) }
        let d = config.embeddingSize
        let embedding = try lookup.linear("token_embd.weight", config.vocabularySize, d)
        guard case .f32(let table, _, _) = embedding else { preconditionFailure("float lookups give f32 weights") }
        let output = config.tiedEmbeddings ? embedding : try lookup.linear("output.weight", config.vocabularySize, d)
        return ModelWeights(config: config, embedding: .f32(table, cols: d), blocks: blocks,
                            outputNorm: try lookup.vector("output_norm.weight", d), output: output, owner: storage)
    }
}
