import Engine
import ModelFile
import Parallel

/// Heap buffers holding float weights, released together: owned by a `ModelWeights`, or by
/// calibration while it works on one block.
public final class FloatStorage: @unchecked Sendable {
    private var buffers: [UnsafeMutableRawPointer] = []
    /// Whatever else the weights point into (a mapped file).
    var keepAlive: AnyObject?

    public init() {}

    /// Room for `count` values of `type`, freed with the storage.
    public func allocate<T>(_ count: Int, of type: T.Type = Float.self) -> UnsafeMutablePointer<T> {
        let buffer = UnsafeMutablePointer<T>.allocate(capacity: count)
        buffers.append(UnsafeMutableRawPointer(buffer))
        return buffer
    }

    deinit { buffers.forEach { $0.deallocate() } }
}

/// How a float model's matrices are held in memory: float32, or half floats at half the size
/// (finetuning's teacher: 3 GB instead of 6 for a 1.5B model, each weight within 2⁻¹¹ of its
/// float32 value). Vectors (norms, biases) stay float32.
public enum FloatMatrices: String, Sendable, Codable, CaseIterable {
    case f32, f16
}

extension TensorLookup {
    /// Tensors of a source model read as float32 into `storage`, matrices as `matrices` says.
    static func floats(from source: ModelSource, into storage: FloatStorage, pool: ThreadPool,
                       matrices: FloatMatrices = .f32) -> TensorLookup {
        func count(_ name: String, _ expected: Int) throws -> Int {
            guard let shape = source.shape(of: name) else { throw ModelSourceError.missingTensor(name) }
            let count = shape.reduce(1, *)
            guard expected == count else {
                throw ModelSourceError.invalid("tensor '\(name)' has \(count) values, the config implies \(expected)")
            }
            return count
        }
        func tensor(_ name: String, _ expected: Int) throws -> UnsafeMutablePointer<Float> {
            let buffer = storage.allocate(try count(name, expected))
            try source.readFloats(name, into: buffer, pool: pool)
            return buffer
        }
        /// Read as float32 into a buffer of its own (freed at once), then rounded to half floats.
        func halves(_ name: String, _ expected: Int) throws -> UnsafeMutablePointer<UInt16> {
            let n = try count(name, expected)
            let floats = UnsafeMutablePointer<Float>.allocate(capacity: n)
            defer { floats.deallocate() }
            try source.readFloats(name, into: floats, pool: pool)
            let halves = storage.allocate(n, of: UInt16.self)
            pool.parallelFor(n) { range in
                for i in range { halves[i] = Float16(floats[i]).bitPattern }
            }
            return halves
        }
        return TensorLookup(
            vector: { name, count in UnsafePointer(try tensor(name, count)) },
            contains: { source.shape(of: $0) != nil },
            linear: { name, rows, cols in
                switch matrices {
                case .f32: .f32(try tensor(name, rows * cols), rows: rows, cols: cols)
                case .f16: .f16(try halves(name, rows * cols), rows: rows, cols: cols)
                }
            })
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
    /// Every weight of `source` dequantized to float32 (matrices in half floats with `.f16`):
    /// the reference path, and finetuning's teacher.
    public static func float(from source: ModelSource, pool: ThreadPool, matrices: FloatMatrices = .f32) throws -> ModelWeights {
        let config = source.config
        let storage = FloatStorage()
        let lookup = TensorLookup.floats(from: source, into: storage, pool: pool, matrices: matrices)
        let blocks = try (0..<config.layers).map { try BlockWeights.assemble($0, config: config, from: lookup) }
        let d = config.embeddingSize
        let embedding = try lookup.linear("token_embd.weight", config.vocabularySize, d)
        guard let table = EmbeddingTable(embedding) else { preconditionFailure("float lookups give float matrices") }
        let output = config.tiedEmbeddings ? embedding : try lookup.linear("output.weight", config.vocabularySize, d)
        return ModelWeights(config: config, embedding: table, blocks: blocks,
                            outputNorm: try lookup.vector("output_norm.weight", d), output: output, owner: storage)
    }
}
