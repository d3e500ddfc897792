import Engine
import Foundation
import HLQ
import ModelFile
import Runtime

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
    /// The step sizes of `parameters`, fixed by the model as opened (before any training), so a
    /// resumed run steps exactly as the run it continues.
    public let stepSizes: [StepSizes]

    public convenience init(path: String) throws {
        try self.init(file: try HLQFile(path: path))
    }

    /// Reads the blocks through the runtime's own view of the file (`ModelWeights.mapped`, which
    /// checks every shape), so finetuning starts from exactly what the runtime computes.
    public init(file: HLQFile) throws {
        self.file = file
        let c = file.metadata.config, d = c.embeddingSize, q = c.heads * c.headSize, kv = c.kvSize
        let weights = try ModelWeights.mapped(file)
        func vector(_ p: UnsafePointer<Float>?, _ count: Int) -> [Float]? { p.map { Array(UnsafeBufferPointer(start: $0, count: count)) } }
        func trainable(_ matrix: LinearWeight) -> TrainableLinear {
            if case .lut(let m) = matrix { return .hlq(TrainableMatrix(QuantizedMatrix(packed: m))) }
            return .frozen(rows: matrix.rows, cols: matrix.cols, weights: Self.dense(matrix))
        }
        blocks = weights.blocks.map { b in
            TrainableBlock(attentionNorm: vector(b.attentionNorm, d)!, feedForwardNorm: vector(b.feedForwardNorm, d)!,
                           queryBias: vector(b.queryBias, q), keyBias: vector(b.keyBias, kv), valueBias: vector(b.valueBias, kv),
                           linears: [b.query, b.key, b.value, b.attentionOutput, b.gate, b.up, b.down].map(trainable))
        }
        var embedding = [Float](repeating: 0, count: c.vocabularySize * d)
        embedding.withUnsafeMutableBufferPointer { e in
            for token in 0..<c.vocabularySize { weights.embedding.row(token, into: e.baseAddress! + token * d) }
        }
        self.embedding = embedding
        outputNorm = vector(weights.outputNorm, d)!
        head = file.tensor(named: "output.weight") == nil ? embedding : Self.dense(weights.output)
        stepSizes = blocks.flatMap(\.stepSizes)
    }

    /// Every trainable float of the model.
    public var parameterCount: Int { blocks.reduce(0) { $0 + $1.parameterCount } }

    /// Every block's trainable arrays, block after block, each laid out as `TrainableBlock.parameters`:
    /// what the optimiser steps and a checkpoint saves.
    public var parameters: [[Float]] {
        get { blocks.flatMap(\.parameters) }
        set {
            precondition(newValue.count == blocks.count * TrainableBlock.arrays)
            for index in blocks.indices {
                blocks[index].parameters = Array(newValue[(index * TrainableBlock.arrays)..<((index + 1) * TrainableBlock.arrays)])
            }
        }
    }

    /// A stored matrix as dense floats, [rows][cols], computed as the runtime computes it.
    static func dense(_ matrix: LinearWeight) -> [Float] {
        var out = [Float](repeating: 0, count: matrix.rows * matrix.cols)
        if case .lut(let m) = matrix {
            m.dequantize(into: &out)
        } else {
            let rows = EmbeddingTable(matrix)!
            out.withUnsafeMutableBufferPointer { o in
                for r in 0..<matrix.rows { rows.row(r, into: o.baseAddress! + r * matrix.cols) }
            }
        }
        return out
    }

    /// Writes the model to `path` (atomically, through `HLQFileWriter`): every tensor as the source
    /// file has it, except the trained matrices' scales and midpoints, rounded to the half floats
    /// the format stores, and the trained norms; `finetuning` is recorded in the recipe.
    public func write(to path: String, finetuning: String, creator: String) throws {
        let writer = try HLQFileWriter(destination: path)
        var trained: [String: TrainableMatrix] = [:], norms: [String: [Float]] = [:]
        for (i, block) in blocks.enumerated() {
            for (layer, linear) in zip(TrainableBlock.layers, block.linears) {
                if case .hlq(let m) = linear { trained["blk.\(i).\(layer.rawValue).weight"] = m }
            }
            if block.trainsNorms {
                norms["blk.\(i).attn_norm.weight"] = block.attentionNorm
                norms["blk.\(i).ffn_norm.weight"] = block.feedForwardNorm
            }
        }
        for t in file.tensors {
            if let norm = norms[t.name] {
                try norm.withUnsafeBytes { try writer.append(name: t.name, type: t.type, shape: t.shape, parts: [$0]) }
            } else if let m = trained[t.name] {
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
