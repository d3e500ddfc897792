import Engine
import ModelFile

extension ModelWeights {
    /// The weights of a `.hlq` file, used in place from its mapping: no weight is copied, so the
    /// model's pages are file-backed and shared, and only what a step touches becomes resident.
    ///
    /// `arithmetic` says how the HLQ matrices are computed: on the LUT kernels, or dequantized to
    /// float32 (heap memory) as the exact reference.
    public static func mapped(_ file: HLQFile, arithmetic: HLQArithmetic = .lut(.precise)) throws -> ModelWeights {
        let config = file.metadata.config
        let storage = FloatStorage()
        storage.keepAlive = file
        func info(_ name: String) throws -> HLQTensorInfo {
            guard let t = file.tensor(named: name) else { throw ModelSourceError.missingTensor(name) }
            return t
        }
        func vector(_ name: String, count: Int) throws -> UnsafePointer<Float> {
            let t = try info(name)
            guard t.type == .f32, t.shape.reduce(1, *) == count else {
                throw ModelSourceError.invalid("\(name) should be \(count) f32 values, found \(t.type) \(t.shape)")
            }
            return file.floats(of: t).baseAddress!
        }
        func linear(_ name: String, rows: Int, cols: Int) throws -> LinearWeight {
            let t = try info(name)
            guard t.shape == [cols, rows] else {
                throw ModelSourceError.invalid("\(name) has shape \(t.shape), the config implies [\(cols), \(rows)]")
            }
            switch t.type {
            case .f32: return .f32(file.floats(of: t).baseAddress!, rows: rows, cols: cols)
            case .f16: return .f16(UnsafeRawPointer(file.halves(of: t).baseAddress!).assumingMemoryBound(to: UInt16.self), rows: rows, cols: cols)
            case .q8:
                let (weights, scales) = file.q8Parts(of: t)
                return .q8(weights.baseAddress!, scales: scales.baseAddress!, rows: rows, cols: cols)
            case .hlq(let bits, let groupSize):
                let (packed, params) = file.hlqParts(of: t)
                var matrix = LUTMatrix(bits: packed.baseAddress!, params: params.baseAddress!, rows: rows, cols: cols,
                                       planes: bits, groupSize: groupSize)
                switch arithmetic {
                case .exactFloat:
                    let floats = storage.allocate(rows * cols)
                    matrix.dequantize(into: floats)
                    return .f32(floats, rows: rows, cols: cols)
                case .lut(let precision):
                    matrix.tablePrecision = precision
                    return .lut(matrix)
                }
            }
        }
        let lookup = TensorLookup(vector: { try vector($0, count: $1) }, contains: { file.tensor(named: $0) != nil },
                                  linear: { try linear($0, rows: $1, cols: $2) })
        let blocks = try (0..<config.layers).map { try BlockWeights.assemble($0, config: config, from: lookup) }
        let d = config.embeddingSize
        let embeddingInfo = try info("token_embd.weight")
        guard let embedding = EmbeddingTable(try linear("token_embd.weight", rows: config.vocabularySize, cols: d)) else {
            throw ModelSourceError.invalid("token_embd.weight is \(embeddingInfo.type); embeddings must be f32, f16 or q8")
        }
        // A separate output.weight wins, even for a tied model: the recipe may give the head its own precision.
        let output = file.tensor(named: "output.weight") != nil
            ? try linear("output.weight", rows: config.vocabularySize, cols: d)
            : try linear("token_embd.weight", rows: config.vocabularySize, cols: d)
        return ModelWeights(config: config, embedding: embedding, blocks: blocks,
                            outputNorm: try vector("output_norm.weight", count: d), output: output, owner: storage)
    }
}
