import ArgumentParser
import ModelFile

/// Parses `--recipe`: comma-separated `class=precision` pairs that override the defaults.
///
/// Classes: `attn` (q, k, v and output projections), `mlp` (gate, up, down), any single layer
/// (`attn_q`, `attn_k`, `attn_v`, `attn_output`, `ffn_gate`, `ffn_up`, `ffn_down`), `embedding` and
/// `output` (the head). A layer class may be limited to some blocks, `blk.0.ffn_down` or
/// `blk.0-3.attn`, because a model's first and last blocks often need more bits than the rest.
/// Precisions: a bit count (`3`, HLQ at the default group size), `hlq3`, `hlq3/64` (bits and group
/// size), `q8`, `f16` or `f32`. Later items win over earlier ones, and block items over class items.
struct RecipeSpec {
    var overrides: [String: HLQTensorType] = [:]
    var embedding: HLQTensorType?
    var output: HLQTensorType?
    /// The highest block index a `blk.` item names, checked against the model once it is open.
    var highestBlock: Int?

    init(_ text: String, defaultGroupSize: Int) throws {
        for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { throw ValidationError("--recipe item '\(item)' is not class=precision") }
            let precision = try Self.precision(parts[1], defaultGroupSize: defaultGroupSize, item: item)
            switch parts[0] {
            case "embedding", "token_embd":
                guard precision.isDense else { throw ValidationError("--recipe: embeddings must be q8, f16 or f32, not \(parts[1])") }
                embedding = precision
            case "output", "head":
                output = precision
            case let name where name.hasPrefix("blk."):
                let (blocks, layerClass) = try Self.blockItem(name, item: item)
                for block in blocks {
                    for layer in try Self.layers(of: layerClass) { overrides["blk.\(block).\(layer.rawValue)"] = precision }
                }
                highestBlock = max(highestBlock ?? 0, blocks.upperBound)
            case let name:
                for layer in try Self.layers(of: name) { overrides[layer.rawValue] = precision }
            }
        }
    }

    /// The linear layers a class name stands for.
    static func layers(of name: String) throws -> [LinearLayer] {
        switch name {
        case "attn", "attention":
            return LinearLayer.allCases.filter(\.isAttention)
        case "mlp", "ffn":
            return LinearLayer.allCases.filter { !$0.isAttention && $0 != .outputHead }
        default:
            guard let layer = LinearLayer(rawValue: name), layer != .outputHead else {
                throw ValidationError("--recipe: unknown tensor class '\(name)' (attn, mlp, embedding, output, or a layer such as ffn_down)")
            }
            return [layer]
        }
    }

    /// Splits `blk.0-3.attn` into its blocks and its layer class.
    static func blockItem(_ name: String, item: String) throws -> (ClosedRange<Int>, String) {
        let parts = name.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        let bounds = parts.count == 3 ? parts[1].split(separator: "-", omittingEmptySubsequences: false).map { UInt16($0) } : []
        guard (1...2).contains(bounds.count), let first = bounds.first!.map(Int.init), let last = bounds.last!.map(Int.init),
              first <= last else {
            throw ValidationError("--recipe item '\(item)': blocks are written blk.N.class or blk.FIRST-LAST.class, e.g. blk.0-3.ffn_down")
        }
        return (first...last, parts[2])
    }

    static func precision(_ text: String, defaultGroupSize: Int, item: String) throws -> HLQTensorType {
        switch text {
        case "q8": return .q8
        case "f16": return .f16
        case "f32": return .f32
        default:
            let body = text.hasPrefix("hlq") ? String(text.dropFirst(3)) : text
            let numbers = body.split(separator: "/").map { Int($0) }
            guard (1...2).contains(numbers.count), let bits = numbers[0], (1...4).contains(bits) else {
                throw ValidationError("--recipe item '\(item)': precision must be 1-4 bits (e.g. 2, hlq3, hlq4/64), q8, f16 or f32")
            }
            let group = numbers.count == 2 ? numbers[1] : defaultGroupSize
            guard let group, group >= 32, group % 32 == 0, group <= 1024 else {
                throw ValidationError("--recipe item '\(item)': the group size must be a multiple of 32 up to 1024")
            }
            return .hlq(bits: bits, groupSize: group)
        }
    }
}

extension HLQTensorType {
    /// Stored without bit planes, usable for embedding lookups.
    var isDense: Bool {
        switch self {
        case .f32, .f16, .q8: true
        case .hlq: false
        }
    }
}
