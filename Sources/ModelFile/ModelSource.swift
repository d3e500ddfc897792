import Parallel

/// A source model whose weights can be read as floats, whatever its file format (GGUF, safetensors).
///
/// Tensors are named and laid out as GGUF does (`token_embd.weight`, `blk.N.attn_q.weight`,
/// `output_norm.weight`, `output.weight`; shape `[cols, rows]`), so everything downstream of an
/// importer sees one convention.
public protocol ModelSource: AnyObject, Sendable {
    var config: ModelConfig { get }
    var tokenizer: TokenizerSpec { get }
    /// The path of the file (or directory) the model came from.
    var path: String { get }
    /// Every tensor, in GGUF naming.
    var tensorNames: [String] { get }
    /// The tensor's dimensions, fastest first (`[cols, rows]` for a matrix), or nil if there is none.
    func shape(of name: String) -> [Int]?
    /// Reads the whole tensor as floats into `destination` (element count = product of the shape).
    func readFloats(_ name: String, into destination: UnsafeMutablePointer<Float>, pool: ThreadPool) throws
}

extension ModelSource {
    /// The whole tensor as a new float array.
    public func floats(_ name: String, pool: ThreadPool) throws -> [Float] {
        guard let shape = shape(of: name) else { throw ModelSourceError.missingTensor(name) }
        let count = shape.reduce(1, *)
        var error: Error?
        let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            do { try readFloats(name, into: buffer.baseAddress!, pool: pool) } catch let e { error = e }
            initialized = count
        }
        if let error { throw error }
        return values
    }
}

/// Why a source model cannot be imported.
public enum ModelSourceError: Error, CustomStringConvertible, Equatable {
    case missingTensor(String)
    case missingMetadata(String)
    case unsupportedArchitecture(String)
    case invalid(String)

    public var description: String {
        switch self {
        case .missingTensor(let name): "the model has no tensor '\(name)'"
        case .missingMetadata(let key): "the model's metadata lacks '\(key)'"
        case .unsupportedArchitecture(let arch): "architecture '\(arch)' is not supported (llama and qwen2 are)"
        case .invalid(let why): why
        }
    }
}
