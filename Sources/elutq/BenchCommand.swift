import ArgumentParser
import Engine
import Foundation
import Parallel
import Runtime
import SystemReadings

/// `elutq bench`: a llama-bench style report of prefill (pp) and decode (tg) speed, with memory.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure prompt processing (pp) and generation (tg) speed, mean ± sd, and memory.",
        discussion: """
            pp: a prompt of --prompt-tokens random tokens is processed from an empty cache (batched). \
            tg: --gen-tokens tokens are decoded one at a time after a one-token prompt, greedy. \
            Memory is the resident set after the runs, split into file-backed pages (the mapped model) \
            and anonymous pages (KV cache, buffers, heap).
            """)

    @Argument(help: "A .hlq model, a GGUF file or a Hugging Face checkpoint directory.") var model: String
    @Option(name: .customLong("prompt-tokens"), help: "Prompt length for pp.") var promptTokens = 64
    @Option(name: .customLong("gen-tokens"), help: "Generated tokens for tg.") var genTokens = 128
    @Option(help: "Timed repetitions of each test (after one warm-up).") var repetitions = 5
    @Option(help: "Context size (the KV cache).") var ctx = 2048
    @Flag(help: ArgumentHelp(
        "Also run one pp batch and one tg run recording where the time goes, by kind of work.",
        discussion: """
            Activation tables, LUT products, dense products, the output head, attention, norms/rotary/residuals \
            and sampling, as wall time on the calling thread (which takes part in every parallel region), so the \
            shares add up to the pass; "other" is what falls between them. "Waiting in the thread pool" is the part \
            of the products and attention in which the caller had finished its share and waited for the other \
            threads. The profiled runs are not the timed ones.
            """))
    var profile = false
    @Flag(name: .customLong("read-probe"), help: ArgumentHelp(
        "Also measure this machine's read bandwidth on --threads threads, and decode's weight stream as a share of it.",
        discussion: """
            Decode at batch 1 reads every matrix once a token, so its speed is bound by memory bandwidth; the share \
            says how close to that bound it runs. The probe reads a 1 GiB buffer with wide loads, four streams per \
            thread, after the memory readings (which it would otherwise inflate), in --repetitions rounds each \
            after one more decode run: the share is the median of the rounds' shares, each run's weight stream \
            over the probe that follows it, since a virtual machine's bandwidth can drift by a third within \
            seconds.
            """))
    var readProbe = false
    @OptionGroup var kernel: KernelOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard promptTokens > 0, genTokens > 0, repetitions > 0 else {
            throw ValidationError("--prompt-tokens, --gen-tokens and --repetitions must be positive")
        }
        guard promptTokens + genTokens < ctx else { throw ValidationError("--ctx must exceed prompt plus generated tokens") }
    }

    struct Rate: Codable {
        var test: String
        var tokensPerSecondMean: Double
        var tokensPerSecondSD: Double
    }

    /// Where one profiled test's time went: seconds per step for each kind of work.
    struct Profile: Codable {
        struct Share: Codable {
            var work: String
            var secondsPerStep: Double
            var share: Double
        }
        var test: String
        var secondsPerStep: Double
        var shares: [Share]
        /// Seconds per step the caller waited for other threads, within the shares above.
        var poolWaitSecondsPerStep: Double
    }

    /// One decode run's weight stream (GB/s) and the read probe right after it.
    struct ProbeRound: Codable {
        var decodeWeightGBs: Double
        var readBandwidthGBs: Double
    }

    struct Report: Codable {
        var model: String
        var kind: String
        /// The LUT kernels' tables for a `.hlq` model (int8, precise or mixed); nil for other models.
        var tables: String?
        var threads: Int
        var results: [Rate]
        var memory: ProcessMemory
        var kvCacheBytes: Int
        var mappedModelBytes: Int
        /// Bytes of matrices a decode step reads, and at tg's mean rate, gigabytes a second.
        var weightBytesPerToken: Int
        var decodeWeightGBs: Double
        /// With --read-probe: the machine's read bandwidth on these threads (as bench-kernel names
        /// it; the median of the rounds'), and decode's weight stream as a fraction of it (the
        /// median of the rounds' fractions).
        var readBandwidthGBs: Double?
        var decodeFractionOfBandwidth: Double?
        /// With --read-probe: each round's decode weight stream and the probe after it.
        var probeRounds: [ProbeRound]?
        var profile: [Profile]?
    }

    func run() throws {
        let pool = ThreadPool(threadCount: common.threads)
        let arithmetic = kernel.arithmetic()
        let loaded = try common.loadModel(model, pool: pool, arithmetic: arithmetic)
        let transformer = Transformer(weights: loaded.weights, contextLength: ctx, maxBatch: promptTokens, pool: pool)
        var random = SystemRandomNumberGenerator()
        let vocabulary = Int32(loaded.weights.config.vocabularySize)
        let prompt = (0..<promptTokens).map { _ in Int32.random(in: 0..<vocabulary, using: &random) }

        let prefill = {
            _ = transformer.forward(prompt[...], at: 0, logitRows: (promptTokens - 1)..<promptTokens)
            return promptTokens
        }
        var sampler = Sampler(.greedy)
        let decode = {
            var token = prompt[0]
            for position in 0..<genTokens {
                let logits = transformer.forward([token][...], at: position, logitRows: 0..<1)
                token = StepProfile.measure(transformer.profile, .sampling) { sampler.sample(logits, history: []) }
            }
            return genTokens
        }
        let pp = measure("pp\(promptTokens)", prefill)
        let tg = measure("tg\(genTokens)", decode)
        let profiles = profile ? [Self.profile("pp\(promptTokens)", steps: 1, transformer, prefill),
                                  Self.profile("tg\(genTokens)", steps: genTokens, transformer, decode)] : nil
        var tables: String?  // only a .hlq model runs on the tables; another file ignores the arithmetic
        if case .lut(let precision) = arithmetic, loaded.kind.hasPrefix("hlq") { tables = precision.rawValue }
        let weightBytes = loaded.weights.streamedBytesPerToken
        var report = Report(model: model, kind: loaded.kind, tables: tables, threads: common.threads, results: [pp, tg],
                            memory: .current(), kvCacheBytes: transformer.kvCacheBytes,
                            mappedModelBytes: loaded.mappedBytes, weightBytesPerToken: weightBytes,
                            decodeWeightGBs: Double(weightBytes) * tg.tokensPerSecondMean / 1e9, profile: profiles)
        if readProbe {
            common.log("bench: \(repetitions) rounds of tg\(genTokens) and the read probe (\(common.threads) threads)")
            let probe = ReadProbe(bytes: 1 << 30, pool: pool)
            let rounds = (0..<repetitions).map { _ in
                let start = monotonicSeconds()
                let tokens = decode()
                let stream = Double(weightBytes * tokens) / (monotonicSeconds() - start)
                return ProbeRound(decodeWeightGBs: stream / 1e9, readBandwidthGBs: probe.bestRate(of: 2) / 1e9)
            }
            report.probeRounds = rounds
            report.readBandwidthGBs = median(rounds.map(\.readBandwidthGBs))
            report.decodeFractionOfBandwidth = median(rounds.map { $0.decodeWeightGBs / $0.readBandwidthGBs })
        }
        if common.json {
            try common.printJSON(report)
        } else {
            print(Self.table(report))
        }
    }

    /// Runs `body` (`steps` forward passes) once with a profile attached, and shares its time out.
    private static func profile(_ test: String, steps: Int, _ transformer: Transformer, _ body: () -> Int) -> Profile {
        let recorded = StepProfile()
        transformer.profile = recorded
        transformer.pool.measuresCallerWait = true
        let waitBefore = transformer.pool.callerWait.load(ordering: .relaxed)
        let start = monotonicSeconds()
        _ = body()
        let total = monotonicSeconds() - start
        transformer.profile = nil
        transformer.pool.measuresCallerWait = false
        let wait = Double(transformer.pool.callerWait.load(ordering: .relaxed) - waitBefore) * 1e-9
        var shares = recorded.seconds.map { Profile.Share(work: $0.work.rawValue, secondsPerStep: $0.seconds / Double(steps),
                                                          share: $0.seconds / total) }
        let other = total - recorded.seconds.reduce(0) { $0 + $1.seconds }
        shares.append(Profile.Share(work: "other", secondsPerStep: other / Double(steps), share: other / total))
        return Profile(test: test, secondsPerStep: total / Double(steps), shares: shares, poolWaitSecondsPerStep: wait / Double(steps))
    }

    /// Runs `body` once to warm up, then `repetitions` times, and returns tokens/s mean ± sd.
    private func measure(_ test: String, _ body: () -> Int) -> Rate {
        common.log("running \(test)")
        _ = body()
        var rates: [Double] = []
        for _ in 0..<repetitions {
            let start = monotonicSeconds()
            let tokens = body()
            rates.append(Double(tokens) / (monotonicSeconds() - start))
        }
        let mean = rates.reduce(0, +) / Double(rates.count)
        let variance = rates.count > 1 ? rates.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(rates.count - 1) : 0
        return Rate(test: test, tokensPerSecondMean: mean, tokensPerSecondSD: variance.squareRoot())
    }

    static func table(_ r: Report) -> String {
        func mb(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1e6) }
        let kind = r.tables.map { "\(r.kind), \($0) tables" } ?? r.kind
        var lines = ["model \(r.model) (\(kind)), \(r.threads) threads", "test       tokens/s"]
        for rate in r.results {
            let name = rate.test.padding(toLength: 10, withPad: " ", startingAt: 0)
            lines.append(name + String(format: " %.2f ± %.2f", rate.tokensPerSecondMean, rate.tokensPerSecondSD))
        }
        for profile in r.profile ?? [] {
            lines.append(String(format: "profile of %@: %.3f ms per step", profile.test, profile.secondsPerStep * 1e3))
            for share in profile.shares {
                lines.append("  " + share.work.padding(toLength: 26, withPad: " ", startingAt: 0)
                             + String(format: "%8.3f ms %5.1f%%", share.secondsPerStep * 1e3, share.share * 100))
            }
            lines.append(String(format: "  of which waiting in the thread pool %.3f ms %.1f%%", profile.poolWaitSecondsPerStep * 1e3,
                                profile.poolWaitSecondsPerStep / profile.secondsPerStep * 100))
        }
        var stream = String(format: "weights: %.1f MB read a decode step, %.1f GB/s at tg's rate",
                            Double(r.weightBytesPerToken) / 1e6, r.decodeWeightGBs)
        if let bandwidth = r.readBandwidthGBs, let fraction = r.decodeFractionOfBandwidth {
            stream += String(format: "; in rounds with the read probe (median %.1f GB/s), %.0f%% of it", bandwidth, 100 * fraction)
        }
        lines.append(stream)
        lines.append("memory: peak RSS \(mb(r.memory.peakResidentBytes)); now file-backed \(mb(r.memory.fileBackedBytes)), "
                     + "anonymous \(mb(r.memory.anonymousBytes)); KV cache \(mb(r.kvCacheBytes)), model mapped \(mb(r.mappedModelBytes))")
        return lines.joined(separator: "\n")
    }
}
