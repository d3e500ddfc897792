import Foundation

/// Where a finetuning run stands, saved after every block and every few end-to-end steps so that
/// `--resume` continues an interrupted run to the very result an uninterrupted one gives.
///
/// File layout: the 8 bytes `ELUTQCKP`, a little-endian UInt64 header length, the JSON header,
/// then the float arrays it lists, raw little-endian: every block's trainable arrays in order,
/// then, once end-to-end tuning has begun, AdamW's first and second moments and the parameters
/// of the best held-out loss so far, in the same order.
public struct Checkpoint: Sendable {
    /// What the run is: model, source, text and settings. A checkpoint of another run is refused.
    public var fingerprint: String
    /// Blocks finished by block reconstruction.
    public var completedBlocks: Int
    /// End-to-end steps taken.
    public var endToEndSteps: Int
    /// Every block's trainable arrays, block after block, laid out as `TrainableBlock.parameters`.
    public var parameters: [[Float]]
    /// AdamW's state of end-to-end tuning, once it has begun.
    public var optimizer: AdamW?
    /// End-to-end tuning's best parameters so far and their held-out loss, once it has begun.
    public var best: HeldOutBest?

    private struct Header: Codable {
        var fingerprint: String
        var completedBlocks: Int
        var endToEndSteps: Int
        var adamSteps: Int?
        var bestLoss: Double?
        var sizes: [Int]
    }

    private static let magic = Array("ELUTQCKP".utf8)

    public init(fingerprint: String, completedBlocks: Int, endToEndSteps: Int, parameters: [[Float]], optimizer: AdamW?,
                best: HeldOutBest? = nil) {
        precondition((optimizer == nil) == (best == nil), "end-to-end state is saved whole")
        self.fingerprint = fingerprint
        self.completedBlocks = completedBlocks
        self.endToEndSteps = endToEndSteps
        self.parameters = parameters
        self.optimizer = optimizer
        self.best = best
    }

    /// Writes the checkpoint atomically: a reader (or a crash) sees the previous one or this one.
    public func write(to path: String) throws {
        let header = Header(fingerprint: fingerprint, completedBlocks: completedBlocks, endToEndSteps: endToEndSteps,
                            adamSteps: optimizer?.step, bestLoss: best?.loss, sizes: parameters.map(\.count))
        let json = try JSONEncoder().encode(header)
        var data = Data(Self.magic)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        var arrays = parameters
        if let optimizer, let best { arrays += optimizer.first + optimizer.second + best.parameters }
        for array in arrays { array.withUnsafeBytes { data.append(contentsOf: $0) } }
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Reads a checkpoint, checking its structure (not yet whether it fits the run).
    public init(path: String, weightDecay: Float) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        guard data.count >= 16, Array(data.prefix(8)) == Self.magic else {
            throw FinetuneError.badCheckpoint("\(path) is not an elutq checkpoint")
        }
        let length = data.subdata(in: 8..<16).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard length <= UInt64(data.count - 16) else { throw FinetuneError.badCheckpoint("its header runs past the end") }
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: data.subdata(in: 16..<(16 + Int(length))))
        } catch {
            throw FinetuneError.badCheckpoint("its header is not valid: \(error)")
        }
        var offset = 16 + Int(length)
        guard (header.adamSteps == nil) == (header.bestLoss == nil) else {
            throw FinetuneError.badCheckpoint("its header has half of the end-to-end state")
        }
        let copies = header.adamSteps == nil ? 1 : 4
        guard header.sizes.allSatisfy({ $0 >= 0 && $0 < 1 << 40 }),
              data.count - offset == copies * header.sizes.reduce(0, +) * 4 else {
            throw FinetuneError.badCheckpoint("its size does not match its header (a truncated file?)")
        }
        func array(_ count: Int) -> [Float] {
            defer { offset += count * 4 }
            return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                data.copyBytes(to: buffer, from: offset..<(offset + count * 4))
                initialized = count
            }
        }
        fingerprint = header.fingerprint
        completedBlocks = header.completedBlocks
        endToEndSteps = header.endToEndSteps
        parameters = header.sizes.map(array)
        if let steps = header.adamSteps, let bestLoss = header.bestLoss {
            let first = header.sizes.map(array), second = header.sizes.map(array)
            optimizer = AdamW(step: steps, first: first, second: second, weightDecay: weightDecay)
            best = HeldOutBest(loss: bestLoss, parameters: header.sizes.map(array))
        } else {
            optimizer = nil
            best = nil
        }
    }
}
