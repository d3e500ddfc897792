import Engine
import Foundation
import HLQ
import ModelFile
import Parallel
import Runtime

/// A `.hlq` model opened for finetuning: its blocks in trainable form, the final norm as floats,
/// and the frozen embeddings and head read in place from the mapped file.
public final class StudentModel: @unchecked Sendable {
    public let file: HLQFile
    public var config: ModelConfig { file.metadata.config }
    public var blocks: [TrainableBlock]
    /// [vocabularySize][embeddingSize], rows expanded as the runtime expands them. Looked up in
    /// the file, not copied: as floats Qwen2.5-Coder-1.5B's would take 933 MB. Valid while this
    /// model lives, so not handed out of the module.
    var embedding: EmbeddingTable { weights.embedding }
    /// [embeddingSize]
    public let outputNorm: [Float]
    /// [vocabularySize][embeddingSize]: the head as the file stores it (the embeddings when tied).
    var head: LinearWeight { weights.output }
    /// The runtime's view of the file: the embeddings and the head are read through it.
    private let weights: ModelWeights
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
        self.weights = weights
        outputNorm = vector(weights.outputNorm, d)!
        stepSizes = blocks.flatMap(\.stepSizes)
    }

    /// Writes the head's transpose, [embeddingSize][vocabularySize], into `out`: the one dense
    /// copy of the head training keeps, built 16 rows at a time from whatever the file stores
    /// (float, half-float, q8 or HLQ), so no second copy of a large head is ever held.
    func transposeHead(into out: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let (d, vocabulary, head) = (config.embeddingSize, config.vocabularySize, self.head)
        pool.parallelFor((vocabulary + 15) / 16) { blocks in
            // [16][embeddingSize]: rows of the head before they are transposed.
            let block = UnsafeMutablePointer<Float>.allocate(capacity: 16 * d)
            defer { block.deallocate() }
            for first in stride(from: blocks.lowerBound * 16, to: min(vocabulary, blocks.upperBound * 16), by: 16) {
                let count = min(16, vocabulary - first)
                Self.expand(head, rows: first..<(first + count), into: block)
                DenseProduct.transpose(block, ldx: d, rows: count, cols: d, into: out + first, ldt: vocabulary)
            }
        }
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
        out.withUnsafeMutableBufferPointer { expand(matrix, rows: 0..<matrix.rows, into: $0.baseAddress!) }
        return out
    }

    /// Rows `rows` of a stored matrix as floats, into `out` ([rows.count][cols]).
    static func expand(_ matrix: LinearWeight, rows: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        if case .lut(let m) = matrix {
            m.dequantize(rows: rows, into: out)
        } else {
            let table = EmbeddingTable(matrix)!
            for r in rows { table.row(r, into: out + (r - rows.lowerBound) * matrix.cols) }
        }
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
