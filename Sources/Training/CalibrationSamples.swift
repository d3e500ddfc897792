import Runtime

/// The token sequences finetuning trains on, and the held-out ones that decide when it stops.
public struct CalibrationSamples: Sendable {
    /// Sequences the optimiser sees.
    public var training: [[Int32]]
    /// Sequences only measured: the validation loss that picks the best epoch.
    public var heldOut: [[Int32]]

    /// Up to `count` sequences of `length` tokens, spread evenly over `tokens` (several files are
    /// joined into one text, and the first sequences alone would leave the last files out); every
    /// `heldOutEvery`-th is held out, so both sets see every part of the text.
    public init(tokens: [Int32], length: Int, count: Int, heldOutEvery: Int) throws {
        let available = tokens.count / length
        let count = min(count, available)
        guard count >= 2 else {
            throw FinetuneError.textTooShort(tokens: tokens.count, needed: 2 * length)
        }
        training = []
        heldOut = []
        for i in 0..<count {
            let start = (i * available / count) * length
            let sequence = Array(tokens[start..<(start + length)])
            if i % heldOutEvery == heldOutEvery - 1 || (i == count - 1 && heldOut.isEmpty) {
                heldOut.append(sequence)
            } else {
                training.append(sequence)
            }
        }
    }
}

/// Why a finetuning run cannot start or go on.
public enum FinetuneError: Error, CustomStringConvertible, Equatable {
    case textTooShort(tokens: Int, needed: Int)
    case unreadable(path: String, reason: String)
    case notQuantized(String)
    case sourceMismatch(String)
    case checkpointMismatch(String)
    case badCheckpoint(String)

    public var description: String {
        switch self {
        case .textTooShort(let tokens, let needed):
            "the calibration text has \(tokens) tokens; finetuning needs at least \(needed) (two sequences): give more text or a smaller --finetune-length"
        case .unreadable(let path, let reason):
            "cannot read \(path): \(reason)"
        case .notQuantized(let path):
            "\(path) has no HLQ matrices to finetune"
        case .sourceMismatch(let why):
            "the source model does not match the quantized one: \(why)"
        case .checkpointMismatch(let why):
            "the checkpoint belongs to another run (\(why)); delete it or run without --resume"
        case .badCheckpoint(let why):
            "the checkpoint cannot be read: \(why)"
        }
    }
}
