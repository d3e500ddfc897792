import Engine
import Foundation
import HLQ
import ModelFile

/// A `.hlq` model opened for finetuning: its blocks in trainable form, and the frozen embeddings,
/// final norm and head as dense floats.
public final class StudentModel: @unchecked Sendable {
    public let file: HLQFile
    public var config: ModelConfig { file.metadata.config }
    public var blocks: [TrainableBlock]
    /// [vocabularySize][embeddingSize], as the runtime expands the stored rows.
    public let embedding: [Float]
    /// [embeddingSize]
    public let outputNorm: [Float]
    /// [vocabularySize][embeddingSize]: the head's weights (the embeddings' storage when tied).
    public let head: [Float]

    public convenience init(path: String) throws {
        try self.init(file: try HLQFile(path: path))
    }

    public init(file: HLQFile) throws {
        self.file = file
        let c = file.metadata.config
        func tensor(_ name: String) throws -> HLQTensorInfo {
            guard let t = file.tensor(named: name) else { throw ModelSourceError.missingTensor(name) }
            return t
        }
        func vector(_ name: String, _ count: Int) throws -> [Float] {
            let t = try tensor(name)
            guard t.type == .f32, t.shape.reduce(1, *) == count else {
                throw ModelSourceError.invalid("\(name) should be \(count) f32 values, found \(t.type) \(t.shape)")
            }
            return Array(file.floats(of: t))
        }
        func linear(_ name: String, rows: Int, cols: Int) throws -> TrainableLinear {
            let t = try tensor(name)
            guard t.shape == [cols, rows] else {
                throw ModelSourceError.invalid("\(name) has shape \(t.shape), the config implies [\(cols), \(rows)]")
            }
            if case .hlq(let bits, let groupSize) = t.type {
                let (packed, params) = file.hlqParts(of: t)
                let matrix = LUTMatrix(bits: packed.baseAddress!, params: params.baseAddress!, rows: rows, cols: cols,
                                       planes: bits, groupSize: groupSize)
                return .hlq(TrainableMatrix(QuantizedMatrix(packed: matrix)))
            }
            return .frozen(rows: rows, cols: cols, weights: Self.dense(t, in: file))
        }
        let d = c.embeddingSize, q = c.heads * c.headSize, kv = c.kvSize, f = c.feedForwardSize
        blocks = try (0..<c.layers).map { i in
            let p = "blk.\(i)."
            func bias(_ name: String, _ count: Int) throws -> [Float]? {
                file.tensor(named: p + name) == nil ? nil : try vector(p + name, count)
            }
            let shapes = [(q, d), (kv, d), (kv, d), (d, q), (f, d), (f, d), (d, f)]
            let linears = try zip(TrainableBlock.layers, shapes).map { layer, shape in
                try linear(p + layer.rawValue + ".weight", rows: shape.0, cols: shape.1)
            }
            return TrainableBlock(attentionNorm: try vector(p + "attn_norm.weight", d),
                                  feedForwardNorm: try vector(p + "ffn_norm.weight", d),
                                  queryBias: try bias("attn_q.bias", q), keyBias: try bias("attn_k.bias", kv),
                                  valueBias: try bias("attn_v.bias", kv), linears: linears)
        }
        embedding = Self.dense(try tensor("token_embd.weight"), in: file)
        outputNorm = try vector("output_norm.weight", d)
        if let output = file.tensor(named: "output.weight") {
            head = Self.dense(output, in: file)
        } else {
            head = embedding
        }
        guard embedding.count == c.vocabularySize * d, head.count == c.vocabularySize * d else {
            throw ModelSourceError.invalid("the embeddings or the head do not have \(c.vocabularySize) rows of \(d)")
        }
    }

    /// Every trainable float of the model.
    public var parameterCount: Int { blocks.reduce(0) { $0 + $1.parameterCount } }

    /// A stored matrix or vector as dense floats, computed as the runtime computes it.
    static func dense(_ t: HLQTensorInfo, in file: HLQFile) -> [Float] {
        switch t.type {
        case .f32:
            return Array(file.floats(of: t))
        case .f16:
            return file.halves(of: t).map { Float($0) }
        case .q8:
            let (values, scales) = file.q8Parts(of: t)
            var out = [Float](repeating: 0, count: t.rows * t.cols)
            for r in 0..<t.rows {
                for c in 0..<t.cols { out[r * t.cols + c] = Float(values[r * t.cols + c]) * scales[r] }
            }
            return out
        case .hlq(let bits, let groupSize):
            let (packed, params) = file.hlqParts(of: t)
            var out = [Float](repeating: 0, count: t.rows * t.cols)
            LUTMatrix(bits: packed.baseAddress!, params: params.baseAddress!, rows: t.rows, cols: t.cols, planes: bits,
                      groupSize: groupSize).dequantize(into: &out)
            return out
        }
    }

    /// Writes the model to `path` (atomically, through `HLQFileWriter`): every tensor as the source
    /// file has it, except the trained matrices' scales and midpoints, rounded to the half floats
    /// the format stores; `finetuning` is recorded in the recipe.
    public func write(to path: String, finetuning: String, creator: String) throws {
        let writer = try HLQFileWriter(destination: path)
        var trained: [String: TrainableMatrix] = [:]
        for (i, block) in blocks.enumerated() {
            for (layer, linear) in zip(TrainableBlock.layers, block.linears) {
                if case .hlq(let m) = linear { trained["blk.\(i).\(layer.rawValue).weight"] = m }
            }
        }
        for t in file.tensors {
            if let m = trained[t.name] {
                let packed = PackedMatrix(m.quantized)
                try packed.bits.withUnsafeBytes { bits in
                    try packed.params.withUnsafeBytes { params in
                        try writer.append(name: t.name, type: t.type, shape: t.shape, parts: [bits, params])
                    }
                }
            } else {
                try writer.append(name: t.name, type: t.type, shape: t.shape, parts: file.parts(of: t))
            }
        }
        var metadata = file.metadata
        metadata.recipe.finetuning = finetuning
        metadata.creator = creator
        metadata.created = Date()
        try writer.finish(metadata: metadata)
    }
}
