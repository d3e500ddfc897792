import Runtime

/// The settings of a finetuning run; a checkpoint records them, and `--resume` refuses other ones.
public struct FinetuneOptions: Codable, Sendable, Equatable {
    /// Which stages run.
    public enum Stages: String, Codable, Sendable, CaseIterable {
        case block, e2e, both
        public var runsBlocks: Bool { self != .e2e }
        public var runsEndToEnd: Bool { self != .block }
    }

    /// What end-to-end tuning minimises.
    public enum Objective: String, Codable, Sendable, CaseIterable {
        /// KL divergence from the float model's next-token distribution (knowledge distillation).
        case distillation
        /// Cross-entropy of the calibration text's next tokens.
        case nextToken = "next-token"
    }

    public var stages: Stages = .both
    /// Passes over the training sequences, per block and end to end.
    public var epochs = 2
    /// Peak AdamW learning rate of block reconstruction (cosine schedule to a tenth of it), as a
    /// fraction of each group's scale size (`StepSizes`).
    public var blockLearningRate: Float = 2e-3
    /// Peak AdamW learning rate of end-to-end tuning, as a fraction of each group's scale size.
    public var endToEndLearningRate: Float = 1e-3
    /// AdamW's decoupled weight decay, on every trained array (it would pull trained norms
    /// towards 0, not 1); 0, and not offered on the command line.
    public var weightDecay: Float = 0
    /// Calibration sequences, training and held out together.
    public var samples = 64
    /// Tokens per sequence.
    public var length = 256
    /// Every this many sequences, one is held out.
    public var heldOutEvery = 8
    public var objective: Objective = .distillation
    /// Whether the blocks' norm weights train along with the scales and midpoints.
    public var trainNorms = false
    /// End-to-end steps between checkpoints.
    public var checkpointEvery = 16
    /// Seeds the order in which each epoch visits the training sequences.
    public var seed: UInt64 = 1
    /// How the float teacher's matrices are held: half floats halve its memory (3 GB instead
    /// of 6 for a 1.5B model), and its targets move by far less than a 2- to 4-bit student's error.
    public var teacherMatrices: FloatMatrices = .f16

    public init() {}

    /// The run in words, for the model file's recipe.
    public var summary: String {
        var parts: [String] = []
        if stages.runsBlocks { parts.append("block reconstruction (lr \(blockLearningRate))") }
        if stages.runsEndToEnd { parts.append("end-to-end \(objective.rawValue) (lr \(endToEndLearningRate))") }
        return parts.joined(separator: " + ") + (trainNorms ? ", norms trained" : "") + ", \(epochs) epochs, \(samples)×\(length) tokens"
    }
}
