import Foundation
import HLQ
import ModelFile
import Parallel

/// One tensor of a quantized model, in the form a `.hlq` file stores it.
public enum QuantizedTensor: Sendable {
    case f32([Float])
    case f16([UInt16])
    case q8(values: [Int8], scales: [Float])
    case hlq(PackedMatrix)

    /// The stored parts in file order (see `HLQTensorType`).
    public func withParts<T>(_ body: ([UnsafeRawBufferPointer]) throws -> T) rethrows -> T {
        switch self {
        case .f32(let v): return try v.withUnsafeBytes { try body([$0]) }
        case .f16(let v): return try v.withUnsafeBytes { try body([$0]) }
        case .q8(let values, let scales):
            return try values.withUnsafeBytes { a in try scales.withUnsafeBytes { b in try body([a, b]) } }
        case .hlq(let packed):
            return try packed.bits.withUnsafeBytes { a in try packed.params.withUnsafeBytes { b in try body([a, b]) } }
        }
    }

    /// Bytes stored, all parts.
    public var byteCount: Int { withParts { $0.reduce(0) { $0 + $1.count } } }

    /// The type to record for it in a `.hlq` file (a mixed-precision run decides it per tensor).
    public var type: HLQTensorType {
        switch self {
        case .f32: .f32
        case .f16: .f16
        case .q8: .q8
        case .hlq(let packed): .hlq(bits: packed.planes, groupSize: packed.groupSize)
        }
    }
}

/// Turns a source model into quantized tensors by a recipe: HLQ (or uniform) for the linear layers,
/// the recipe's precision for embeddings and head, float32 for norms and biases.
public struct ModelQuantizer: Sendable {
    public let source: ModelSource
    public let recipe: QuantizationRecipe

    public init(source: ModelSource, recipe: QuantizationRecipe) {
        self.source = source
        self.recipe = recipe
    }

    /// What one tensor becomes.
    public func type(of name: String) -> HLQTensorType {
        if name == "token_embd.weight" { return recipe.embedding }
        if let layer = LinearLayer(tensorName: name) {
            if layer == .outputHead { return recipe.output ?? recipe.embedding }
            let tensor = String(name.dropLast(".weight".count))
            return recipe.overrides[tensor] ?? recipe.overrides[layer.rawValue] ?? .hlq(bits: recipe.bits, groupSize: recipe.groupSize)
        }
        return .f32
    }

    /// The tensors to write, in order: the source's, plus a separate output head when the recipe
    /// gives a tied model's head its own precision.
    public var tensorNames: [String] {
        var names = source.tensorNames
        if source.config.tiedEmbeddings && recipe.output != nil && !names.contains("output.weight") {
            names.append("output.weight")
        }
        return names
    }

    /// Quantizes every tensor and hands each to `emit` as soon as it is ready, so memory stays at
    /// one tensor's worth whatever the model's size. Returns the stored bits per linear weight.
    public func run(pool: ThreadPool, progress: (Int, Int, String) -> Void,
                    emit: (String, [Int], QuantizedTensor) throws -> Void) throws -> Double {
        let names = tensorNames
        var linearBits = 0.0, linearWeights = 0.0
        for (index, name) in names.enumerated() {
            progress(index, names.count, name)
            let (shape, tensor) = try quantizeWithoutData(name, pool: pool)
            if let layer = LinearLayer(tensorName: name), layer != .outputHead {
                linearBits += Double(tensor.byteCount * 8)
                linearWeights += Double(shape.reduce(1, *))
            }
            try emit(name, shape, tensor)
        }
        progress(names.count, names.count, "")
        return linearWeights > 0 ? linearBits / linearWeights : 0
    }

    /// One tensor by the recipe, rounding to nearest (no calibration data); a tied model's separate
    /// head is made from the embeddings.
    func quantizeWithoutData(_ name: String, pool: ThreadPool) throws -> ([Int], QuantizedTensor) {
        let sourceName = source.shape(of: name) == nil && name == "output.weight" ? "token_embd.weight" : name
        guard let shape = source.shape(of: sourceName) else { throw ModelSourceError.missingTensor(sourceName) }
        return (shape, try quantize(try source.floats(sourceName, pool: pool), shape: shape, as: type(of: name), name: name, pool: pool))
    }

    func quantize(_ floats: [Float], shape: [Int], as type: HLQTensorType, name: String, pool: ThreadPool) throws -> QuantizedTensor {
        switch type {
        case .f32:
            return .f32(floats)
        case .f16:
            return .f16(floats.map { Float16($0).bitPattern })
        case .q8, .hlq:
            guard shape.count == 2 else { throw ModelSourceError.invalid("\(name) is not a matrix and cannot be stored as \(type)") }
            let (cols, rows) = (shape[0], shape[1])
            if case .hlq(let bits, let groupSize) = type {
                let method: QuantizationMethod = recipe.method == .uniform ? .uniform : .hlq
                let q = floats.withUnsafeBufferPointer {
                    Quantizer.quantize($0, rows: rows, cols: cols, planes: bits, groupSize: groupSize, method: method, pool: pool)
                }
                return .hlq(PackedMatrix(q))
            }
            let (values, scales) = floats.withUnsafeBufferPointer { RowQuantizer.q8($0, rows: rows, cols: cols) }
            return .q8(values: values, scales: scales)
        }
    }
}
