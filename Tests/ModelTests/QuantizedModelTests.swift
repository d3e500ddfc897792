import Engine
import Evaluation
import Foundation
import HLQ
import ModelFile
import NIOConcurrencyHelpers
import Parallel
import Quantization
import Runtime
import Testing
import TestSupport
import Tokenizer

/// SmolLM2 quantized to `.hlq` files, made once per test run and shared by the tests below.
final class QuantizedModels: @unchecked Sendable {
    static let shared = Result { try QuantizedModels() }

    let directory: URL
    /// HLQ at 4 bits, g = 128, embeddings q8 (the tied head too).
    let fourBit: String
    /// HLQ at 2 bits, g = 128, plain RTN: a destroyed model (perplexity ~10^5) for the file tests.
    let twoBit: String
    /// Uniform at 2 bits, g = 128, plain RTN: destroyed further (perplexity ~3·10^6).
    let uniformTwoBit: String
    /// HLQ GPTQ + refit at 2 bits, g = 128, calibrated on Apache-2.0 and GFDL-1.3: the usable 2-bit model.
    let twoBitCalibrated: String
    /// GPL-3, the evaluation text.
    let text: String

    private init() throws {
        directory = try makeTemporaryDirectory("models")
        let source = try GGUFModelSource(path: try realModelPath())
        let pool = ThreadPool(threadCount: 2)
        fourBit = try Self.quantize(source, bits: 4, into: directory.appendingPathComponent("smollm2-hlq4.hlq").path, pool: pool)
        twoBit = try Self.quantize(source, bits: 2, into: directory.appendingPathComponent("smollm2-hlq2.hlq").path, pool: pool)
        uniformTwoBit = try Self.quantize(source, method: .uniform, bits: 2,
                                          into: directory.appendingPathComponent("smollm2-uniform2.hlq").path, pool: pool)
        twoBitCalibrated = try Self.calibrate(source, into: directory.appendingPathComponent("smollm2-gptq2.hlq").path, pool: pool)
        text = try String(contentsOfFile: "/usr/share/common-licenses/GPL-3", encoding: .utf8)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    static func quantize(_ source: ModelSource, method: QuantizationRecipe.Method = .hlq, bits: Int, into path: String,
                         pool: ThreadPool) throws -> String {
        var recipe = QuantizationRecipe(method: method, bits: bits, groupSize: 128, embedding: .q8, output: nil, averageBitsPerWeight: 0)
        let writer = try HLQFileWriter(destination: path)
        let quantizer = ModelQuantizer(source: source, recipe: recipe)
        recipe.averageBitsPerWeight = try quantizer.run(pool: pool, progress: { _, _, _ in }) { name, shape, tensor in
            try tensor.withParts { try writer.append(name: name, type: tensor.type, shape: shape, parts: $0) }
        }
        try writer.finish(metadata: HLQFileMetadata(config: source.config, tokenizer: source.tokenizer, recipe: recipe,
                                                    sourceSHA256: String(repeating: "0", count: 64), creator: "tests", created: Date()))
        return path
    }

    static func calibrate(_ source: ModelSource, into path: String, pool: ThreadPool) throws -> String {
        let texts = try ["Apache-2.0", "GFDL-1.3"].map {
            try String(contentsOfFile: "/usr/share/common-licenses/\($0)", encoding: .utf8)
        }
        var recipe = QuantizationRecipe(method: .hlq, bits: 2, groupSize: 128, embedding: .q8, output: nil, averageBitsPerWeight: 0)
        let writer = try HLQFileWriter(destination: path)
        let quantizer = CalibratedQuantizer(source: source, recipe: recipe,
                                            options: CalibrationOptions(text: texts.joined(separator: "\n\n"), textName: "Apache-2.0 + GFDL-1.3"))
        recipe.averageBitsPerWeight = try quantizer.run(pool: pool, progress: { _ in }) { name, shape, tensor in
            try tensor.withParts { try writer.append(name: name, type: tensor.type, shape: shape, parts: $0) }
        }
        try writer.finish(metadata: HLQFileMetadata(config: source.config, tokenizer: source.tokenizer, recipe: recipe,
                                                    sourceSHA256: String(repeating: "0", count: 64), creator: "tests", created: Date()))
        return path
    }

    /// What a score was computed on: a model file (each is written once per run and never changed)
    /// and its arithmetic.
    private struct ScoreKey: Hashable {
        let path: String
        let arithmetic: HLQArithmetic
    }

    /// Scores already computed: several tests score the same model the same way, and each full
    /// pass over GPL-3 costs the run 40-60 CPU seconds here.
    private let scores = NIOLockedValueBox<[ScoreKey: Double]>([:])

    /// Perplexity on GPL-3 (ctx 512), on the LUT kernels or the float reference, computed once per
    /// model and arithmetic.
    func perplexity(_ path: String, arithmetic: HLQArithmetic = .lut(.precise)) throws -> Double {
        let key = ScoreKey(path: path, arithmetic: arithmetic)
        if let score = scores.withLockedValue({ $0[key] }) { return score }
        let score = try evaluatePerplexity(path, arithmetic: arithmetic)
        scores.withLockedValue { $0[key] = score }
        return score
    }

    private func evaluatePerplexity(_ path: String, arithmetic: HLQArithmetic) throws -> Double {
        let pool = ThreadPool(threadCount: 2)
        let model = try LoadedModel.open(path, pool: pool, arithmetic: arithmetic)
        let tokens = model.tokenizer.encode(text)
        let transformer = Transformer(weights: model.weights, contextLength: 512, maxBatch: 128, pool: pool)
        return try Perplexity.evaluate(transformer, tokens: tokens, context: 512, bos: nil).ppl
    }
}

/// HLQ models on the LUT kernels, on the real SmolLM2.
@Suite(.serialized, .needs(.realModel)) struct QuantizedModelTests {
    /// llama.cpp's perplexity of the unquantized model on GPL-3 at ctx 512 (FloatPathTests checks ours against it).
    static let referencePerplexity = 18.30

    @Test func fourBitStaysWithinOneAndAHalfTimesTheReference() throws {
        let models = try QuantizedModels.shared.get()
        let ppl = try models.perplexity(models.fourBit)
        #expect(ppl <= 1.5 * Self.referencePerplexity, "4-bit HLQ ppl \(ppl)")
    }

    /// Without data, HLQ must still beat the uniform baseline it contains. It does because its fit
    /// keeps 0 on the grid; the free least-squares fit scored 238 here against uniform's 104.
    @Test func hlqRoundingBeatsUniformRoundingAtThreeBits() throws {
        let models = try QuantizedModels.shared.get()
        let source = try GGUFModelSource(path: try realModelPath())
        let pool = ThreadPool(threadCount: 2)
        func perplexity(_ method: QuantizationRecipe.Method) throws -> Double {
            let path = models.directory.appendingPathComponent("smollm2-\(method.rawValue)3.hlq").path
            return try models.perplexity(try QuantizedModels.quantize(source, method: method, bits: 3, into: path, pool: pool))
        }
        let (hlq, uniform) = (try perplexity(.hlq), try perplexity(.uniform))
        #expect(hlq < uniform, "3-bit RTN: HLQ \(hlq), uniform \(uniform)")
    }

    /// The LUT kernels against exact float dequantization of the very same model, on the whole
    /// evaluation text. The default precise tables stay within 1% on every model, the destroyed
    /// ones included, where the correct token's probability is ~10⁻⁶ and small changes show. The
    /// int8 tables, the runtime's default, stay within the 0.5% that issue #16 allows a faster
    /// prefill on the usable models (on the destroyed ones they are 0.7% and 14% apart).
    enum Model: String, CaseIterable {
        case fourBit, twoBitCalibrated, twoBitRTN, uniformTwoBitRTN
        var isUsable: Bool { self == .fourBit || self == .twoBitCalibrated }
    }

    @Test(arguments: Model.allCases)
    func lutPerplexityIsWithinOnePercentOfExactFloat(model: Model) throws {
        let models = try QuantizedModels.shared.get()
        let path = switch model {
        case .fourBit: models.fourBit
        case .twoBitCalibrated: models.twoBitCalibrated
        case .twoBitRTN: models.twoBit
        case .uniformTwoBitRTN: models.uniformTwoBit
        }
        let exact = try models.perplexity(path, arithmetic: .exactFloat)
        let precise = try models.perplexity(path, arithmetic: .lut(.precise))
        #expect(abs(precise - exact) / exact <= 0.01, "\(model): precise tables \(precise), exact float \(exact)")
        if model.isUsable {
            let int8 = try models.perplexity(path, arithmetic: .lut(.int8))
            #expect(abs(int8 - exact) / exact <= 0.005, "\(model): int8 tables \(int8), exact float \(exact)")
        }
    }

    /// Decoding one token at a time (the grouped decode attention), and two batches (the second
    /// attending to keys already cached), give the logits that one batch of the same tokens gives
    /// (the batched attention's GEMMs), on one thread and on two, where
    /// the decode work items split SmolLM2's three query heads per key/value head differently.
    /// The two add in different orders, and 30 blocks carry that rounding to ~1e-4 of the logits'
    /// range; a head or position read wrongly moves them by a large part of it.
    @Test(arguments: [1, 2])
    func decodingTokenByTokenMatchesTheBatch(threads: Int) throws {
        let models = try QuantizedModels.shared.get()
        let pool = ThreadPool(threadCount: threads)
        let model = try LoadedModel.open(models.fourBit, pool: pool)
        let tokens = Array(model.tokenizer.encode(models.text).prefix(40))
        let batch = Transformer(weights: model.weights, contextLength: 64, maxBatch: 64, pool: pool)
        let batched = Array(batch.forward(tokens[...], at: 0, logitRows: (tokens.count - 1)..<tokens.count))
        let single = Transformer(weights: model.weights, contextLength: 64, maxBatch: 64, pool: pool)
        var decoded: [Float] = []
        for (position, token) in tokens.enumerated() {
            decoded = Array(single.forward([token][...], at: position, logitRows: 0..<1))
        }
        // Two batches, the second at position 25: the batched attention over keys already cached.
        let chunked = Transformer(weights: model.weights, contextLength: 64, maxBatch: 64, pool: pool)
        _ = chunked.forward(tokens[0..<25], at: 0, logitRows: 24..<25)
        let second = Array(chunked.forward(tokens[25...], at: 25, logitRows: (tokens.count - 26)..<(tokens.count - 25)))
        let range = batched.max()! - batched.min()!
        for (name, other) in [("token by token", decoded), ("in two batches", second)] {
            let largest = zip(batched, other).map { abs($0 - $1) }.max()!
            #expect(largest <= 1e-3 * range, "\(name): logits differ by up to \(largest) (range \(range))")
            #expect(batched.firstIndex(of: batched.max()!) == other.firstIndex(of: other.max()!), "\(name)")
        }
    }

    @Test func fourBitAnswersInEnglish() throws {
        let models = try QuantizedModels.shared.get()
        let pool = ThreadPool(threadCount: 2)
        let model = try LoadedModel.open(models.fourBit, pool: pool)
        let generator = Generator(model: model, contextLength: 256, pool: pool)
        let prompt = model.tokenizer.encode(generator.chatPrompt([ChatMessage(role: "user", content: "What is the capital of France?")]))
        let result = try generator.generate(prompt, options: GenerationOptions(maxTokens: 40, sampling: .greedy))
        #expect(result.text.contains("Paris"), "\(result.text)")
    }

    /// Loading maps the file and points the kernels into it: no weight is copied.
    @Test func weightsPointIntoTheMapping() throws {
        let models = try QuantizedModels.shared.get()
        let file = try HLQFile(path: models.twoBit)
        let weights = try ModelWeights.mapped(file)
        let mapping = UInt(bitPattern: file.file.bytes.baseAddress!)..<UInt(bitPattern: file.file.bytes.baseAddress! + file.fileSize)
        for block in weights.blocks {
            for linear in [block.query, block.key, block.value, block.attentionOutput, block.gate, block.up, block.down] {
                guard case .lut(let matrix) = linear else {
                    Issue.record("a linear layer is not on the LUT kernels")
                    continue
                }
                #expect(mapping.contains(UInt(bitPattern: matrix.descriptor.bits)))
                #expect(mapping.contains(UInt(bitPattern: matrix.descriptor.params)))
            }
        }
    }

    @Test func corruptAndTruncatedFilesGiveClearErrors() throws {
        let models = try QuantizedModels.shared.get()
        let pool = ThreadPool(threadCount: 1)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: models.twoBit))
        let broken = models.directory.appendingPathComponent("broken.hlq")
        for (what, data) in [("truncated", bytes.prefix(bytes.count / 2)), ("wrong version", Self.withVersion(99, bytes))] {
            try data.write(to: broken)
            #expect(throws: (any Error).self, "\(what)") { try LoadedModel.open(broken.path, pool: pool) }
            do {
                _ = try LoadedModel.open(broken.path, pool: pool)
            } catch {
                let message = "\(error)"
                #expect(message.contains(what == "truncated" ? "truncated" : "version"), "\(what): \(message)")
            }
        }
    }

    static func withVersion(_ version: UInt32, _ data: Data) -> Data {
        var copy = data
        withUnsafeBytes(of: version.littleEndian) { copy.replaceSubrange(8..<12, with: $0) }
        return copy
    }

    @Test func aPromptLongerThanTheContextIsRefused() throws {
        let models = try QuantizedModels.shared.get()
        let pool = ThreadPool(threadCount: 1)
        let model = try LoadedModel.open(models.twoBit, pool: pool)
        let generator = Generator(model: model, contextLength: 64, pool: pool)
        let prompt = [Int32](repeating: 100, count: 64)
        #expect(throws: GenerationError.promptTooLong(tokens: 64, context: 64)) {
            try generator.generate(prompt, options: GenerationOptions(maxTokens: 4, sampling: .greedy))
        }
    }
}

/// Calibrated HLQ (GPTQ + refit) on the real SmolLM2, calibrated on Apache-2.0 and GFDL-1.3 and
/// evaluated on GPL-3.
@Suite(.serialized, .needs(.realModel)) struct CalibratedModelTests {
    /// The issue's target: HLQ GPTQ at 2 bits (g = 128) reaches a perplexity of 300 or less.
    @Test func twoBitGPTQReachesThreeHundredOrLess() throws {
        let models = try QuantizedModels.shared.get()
        let ppl = try models.perplexity(models.twoBitCalibrated)
        #expect(ppl <= 300, "2-bit HLQ GPTQ ppl \(ppl)")
    }

    /// Mixed precision on a small calibration set: the average stays within the target, and the
    /// budget above all-2-bit is spent on wider layers.
    @Test func targetBitsPerWeightIsMetWithMixedWidths() throws {
        let source = try GGUFModelSource(path: try realModelPath())
        let recipe = QuantizationRecipe(method: .hlq, bits: 2, groupSize: 128, embedding: .q8, output: nil, averageBitsPerWeight: 0)
        var options = CalibrationOptions(text: try String(contentsOfFile: "/usr/share/common-licenses/GFDL-1.3", encoding: .utf8),
                                         textName: "GFDL-1.3")
        (options.chunkCount, options.chunkLength, options.refit, options.targetBitsPerWeight) = (1, 128, false, 2.75)
        var widths = Set<Int>(), bits = 0, weights = 0
        let average = try CalibratedQuantizer(source: source, recipe: recipe, options: options)
            .run(pool: ThreadPool(threadCount: 2), progress: { _ in }) { name, shape, tensor in
                guard let layer = LinearLayer(tensorName: name), layer != .outputHead, case .hlq(let packed) = tensor else { return }
                widths.insert(packed.planes)
                bits += tensor.byteCount * 8
                weights += shape.reduce(1, *)
            }
        #expect(average <= 2.75 && average > 2.55, "average \(average)")
        #expect(abs(average - Double(bits) / Double(weights)) < 1e-9)
        #expect(widths.count >= 2, "widths \(widths)")
    }

    @Test(arguments: [1.5, 4.7, .nan])
    func unreachableTargetIsRefused(target: Double) throws {
        let source = try GGUFModelSource(path: try realModelPath())
        let recipe = QuantizationRecipe(method: .hlq, bits: 2, groupSize: 128, embedding: .q8, output: nil, averageBitsPerWeight: 0)
        var options = CalibrationOptions(text: try String(contentsOfFile: "/usr/share/common-licenses/GFDL-1.3", encoding: .utf8),
                                         textName: "GFDL-1.3")
        options.targetBitsPerWeight = target
        Self.expectRefusedBeforeAnyWork(CalibratedQuantizer(source: source, recipe: recipe, options: options))
    }

    /// `quantizer` throws a `CalibrationError` (`expected`, if given) before it emits any tensor.
    static func expectRefusedBeforeAnyWork(_ quantizer: CalibratedQuantizer, _ expected: CalibrationError? = nil) {
        var emitted = 0
        do {
            _ = try quantizer.run(pool: ThreadPool(threadCount: 2), progress: { _ in }) { _, _, _ in emitted += 1 }
            Issue.record("not refused")
        } catch let error as CalibrationError {
            if let expected { #expect(error == expected) }
        } catch {
            Issue.record("unexpected error \(error)")
        }
        #expect(emitted == 0, "refused before any work")
    }

    /// Drift correction is wired where it belongs: block 0 sees the float model's own inputs, so its
    /// tensors come out bit for bit as without it, while every later block aims elsewhere; it is
    /// named in the recipe, and refused with true-sequential before any work.
    @Test func driftCorrectionChangesOnlyTheBlocksAfterTheFirst() throws {
        let source = try GGUFModelSource(path: try realModelPath())
        let recipe = QuantizationRecipe(method: .hlq, bits: 2, groupSize: 128, embedding: .q8, output: nil, averageBitsPerWeight: 0)
        var options = CalibrationOptions(text: try String(contentsOfFile: "/usr/share/common-licenses/GFDL-1.3", encoding: .utf8),
                                         textName: "GFDL-1.3")
        (options.chunkCount, options.chunkLength) = (2, 128)
        func tensors(driftCorrection: Double) throws -> [String: [UInt8]] {
            var options = options
            options.driftCorrection = driftCorrection
            var tensors: [String: [UInt8]] = [:]
            _ = try CalibratedQuantizer(source: source, recipe: recipe, options: options)
                .run(pool: ThreadPool(threadCount: 2), progress: { _ in }) { name, _, tensor in
                    guard LinearLayer(tensorName: name) != nil else { return }
                    tensor.withParts { parts in tensors[name] = parts.flatMap { Array($0) } }
                }
            return tensors
        }
        let plain = try tensors(driftCorrection: 0), corrected = try tensors(driftCorrection: 0.3)
        #expect(plain.keys == corrected.keys)
        for (name, bytes) in plain {
            if name.hasPrefix("blk.0.") {
                #expect(corrected[name] == bytes, "\(name) changed, but block 0 has no drift to correct")
            } else {
                #expect(corrected[name] != bytes, "\(name) did not change")
            }
        }
        options.driftCorrection = 0.3
        #expect(options.description(chunks: 2).contains("drift correction 0.3"))
        options.trueSequential = true
        Self.expectRefusedBeforeAnyWork(CalibratedQuantizer(source: source, recipe: recipe, options: options),
                                        .driftCorrectionNeedsBlockSequential)
    }

    @Test func badCalibrationTextIsRefusedClearly() throws {
        let source = try GGUFModelSource(path: try realModelPath())
        let recipe = QuantizationRecipe(method: .hlq, bits: 2, groupSize: 128, embedding: .q8, output: nil, averageBitsPerWeight: 0)
        let empty = CalibratedQuantizer(source: source, recipe: recipe, options: CalibrationOptions(text: "", textName: "empty"))
        #expect(throws: CalibrationError.emptyText) { try empty.calibrationChunks() }
        var options = CalibrationOptions(text: "Too short for one chunk.", textName: "short")
        options.chunkLength = 512
        let short = CalibratedQuantizer(source: source, recipe: recipe, options: options)
        #expect(throws: CalibrationError.textTooShort(tokens: 6, chunkLength: 512)) { try short.calibrationChunks() }
    }

    /// Joined files hold more chunks than asked for: the chunks must reach the last file too.
    @Test func calibrationChunksSpanTheWholeText() throws {
        let source = try GGUFModelSource(path: try realModelPath())
        let recipe = QuantizationRecipe(method: .hlq, bits: 2, groupSize: 128, embedding: .q8, output: nil, averageBitsPerWeight: 0)
        let texts = try ["Apache-2.0", "GFDL-1.3", "MPL-2.0"].map {
            try String(contentsOfFile: "/usr/share/common-licenses/\($0)", encoding: .utf8)
        }
        var options = CalibrationOptions(text: texts.joined(separator: "\n\n"), textName: "three licences")
        options.chunkCount = 4
        let chunks = try CalibratedQuantizer(source: source, recipe: recipe, options: options).calibrationChunks()
        let tokens = try Tokenizer(spec: source.tokenizer).encode(options.text)
        let available = tokens.count / options.chunkLength
        #expect(available > 2 * options.chunkCount, "the texts hold \(available) chunks")
        #expect(chunks.count == 4)
        #expect(chunks.allSatisfy { $0.count == options.chunkLength })
        #expect(chunks.first!.startIndex == 0)
        #expect(chunks.last!.startIndex >= (available - available / 4 - 1) * options.chunkLength, "the last chunk starts at \(chunks.last!.startIndex)")
        #expect(zip(chunks, chunks.dropFirst()).allSatisfy { $0.endIndex <= $1.startIndex }, "chunks overlap or are out of order")
    }
}

/// `elutq ppl --kl-reference` on the real SmolLM2: two chunks of GPL-3 scored by a model and its reference.
@Suite(.serialized, .needs(.realModel)) struct DivergenceModelTests {
    static func compare(_ path: String, with referencePath: String, text: String) throws -> Perplexity.Result {
        let pool = ThreadPool(threadCount: 2)
        let model = try LoadedModel.open(path, pool: pool, arithmetic: .lut(.precise))
        let reference = try LoadedModel.open(referencePath, pool: pool, arithmetic: .lut(.precise))
        let tokens = Array(model.tokenizer.encode(text).prefix(1024))
        return try Perplexity.evaluate(Transformer(weights: model.weights, contextLength: 512, maxBatch: 128, pool: pool),
                                       reference: Transformer(weights: reference.weights, contextLength: 512, maxBatch: 128, pool: pool),
                                       tokens: tokens, context: 512, bos: nil)
    }

    @Test func aModelDoesNotDivergeFromItself() throws {
        let models = try QuantizedModels.shared.get()
        let result = try Self.compare(models.fourBit, with: models.fourBit, text: models.text)
        let divergence = try #require(result.divergence)
        #expect(divergence.meanKL == 0 && divergence.maxKL == 0)
        #expect(divergence.sameTopToken == 1)
        #expect(divergence.referencePPL == result.ppl)
    }

    /// The destroyed 2-bit RTN model must be much further from the float model than the 4-bit one,
    /// and agree with it on the top token less often; the reference's own perplexity must not
    /// depend on which model it is compared with.
    @Test func aDestroyedModelDivergesMoreThanAGoodOne() throws {
        let models = try QuantizedModels.shared.get()
        let float = try realModelPath()
        let good = try #require(try Self.compare(models.fourBit, with: float, text: models.text).divergence)
        let destroyed = try #require(try Self.compare(models.twoBit, with: float, text: models.text).divergence)
        #expect(good.meanKL > 0)
        #expect(destroyed.meanKL > 5 * good.meanKL, "KL 4-bit \(good.meanKL), 2-bit RTN \(destroyed.meanKL)")
        #expect(good.sameTopToken > destroyed.sameTopToken)
        #expect(good.referencePPL == destroyed.referencePPL)
        #expect(good.p99KL <= good.maxKL && good.meanKL <= good.maxKL)
    }
}
