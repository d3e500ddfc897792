import ArgumentParser
import Engine
import Foundation
import HLQ
import Parallel

/// `elutq bench-kernel`: times the LUT GEMV and GEMM against this machine's read bandwidth and a float GEMV.
struct BenchKernelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-kernel",
        abstract: "Time the LUT kernels against memory bandwidth, and float32 and q8 GEMVs of the same shape.",
        discussion: """
            Every product is timed through the call decode makes, its rows split into pieces the threads \
            claim. Weights are cycled through enough copies to exceed the caches (--working-set-mb), so \
            GEMV streams from DRAM as decode does. The read bandwidth is measured in the same run with \
            wide loads in four independent streams on the same number of threads, in --rounds rounds \
            interleaved with the GEMV's: the GEMV's share of it is the median of the rounds' shares, since \
            a virtual machine's bandwidth can drift by a third within seconds.
            """)

    @Option(help: "Output rows N.") var rows = 4096
    @Option(help: "Input columns K.") var cols = 4096
    @Option(help: "Bit planes B (1-4).") var bits = 2
    @Option(name: .customLong("group-size"), help: "Group size G (a multiple of 32).") var groupSize = 128
    @Option(help: "Vectors per GEMM call (M).") var batch = 64
    @Option(help: "Timed repetitions per measurement (median reported).") var repetitions = 30
    @Option(help: "Rounds of a read-probe pass and the GEMV's repetitions, interleaved.") var rounds = 5
    @Option(name: .customLong("working-set-mb"), help: "Bytes of weight copies cycled through, in MB.") var workingSetMB = 512
    @OptionGroup var kernel: KernelOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        try validateQuantization(bits: bits, groupSize: groupSize)
        guard rows > 0, cols > 0, batch > 0, repetitions > 0, rounds > 0 else {
            throw ValidationError("--rows, --cols, --batch, --repetitions and --rounds must be positive")
        }
    }

    /// One round: the read probe, then the GEMV's median time.
    struct ProbeRound: Codable {
        var readBandwidthGBs: Double
        var gemvMicroseconds: Double
    }

    struct Report: Codable {
        var isa: String
        var tables: String
        var rows, cols, bits, groupSize, batch, threads: Int
        var packedBytes: Int
        var bitsPerWeight: Double
        /// The median of the rounds' probes.
        var readBandwidthGBs: Double
        var tableBuildMicroseconds: Double
        /// The median of the rounds' median GEMV times.
        var gemvMicroseconds: Double
        var gemvBandwidthGBs: Double
        /// The median of the rounds' shares (each round's GEMV rate over its own probe).
        var gemvFractionOfBandwidth: Double
        var floatGemvMicroseconds: Double
        var speedupOverFloat: Double
        var q8GemvMicroseconds: Double
        var q8GemvBandwidthGBs: Double
        var gemmMicroseconds: Double
        var gemmTokensPerSecond: Double
        var gemvTokensPerSecond: Double
        var gemmOverGemv: Double
        var probeRounds: [ProbeRound]
    }

    func run() throws {
        let pool = ThreadPool(threadCount: common.threads)
        let workingSet = workingSetMB << 20

        common.log("bench-kernel: quantizing a random \(rows)x\(cols) matrix (HLQ, B=\(bits), g=\(groupSize))")
        var random = SystemRandomNumberGenerator()
        let weights = (0..<(rows * cols)).map { _ in Float.random(in: -0.05...0.05, using: &random) }
        let quantized = weights.withUnsafeBufferPointer {
            Quantizer.quantize($0, rows: rows, cols: cols, planes: bits, groupSize: groupSize, method: .hlq, pool: pool)
        }
        let precision = kernel.tables ?? .int8
        let copies = WeightCopies(PackedMatrix(quantized), precision: precision, minimumBytes: workingSet)

        let x = (0..<(batch * cols)).map { _ in Float.random(in: -1...1, using: &random) }
        let tables = ActivationTables(cols: cols, groupSize: groupSize, precision: precision.forBatch(of: 1))
        let tableTime = x.withUnsafeBufferPointer { xs in
            medianSeconds(repetitions: repetitions) { _ in tables.build(xs.baseAddress!, count: 1, stride: cols) }
        }
        let bytes = copies.matrixBytes
        common.log("bench-kernel: timing GEMV over \(copies.count) copies, \(rounds) rounds with the read probe (\(common.threads) threads)")
        let probeRounds = Self.probeRounds(rounds, bytes: max(workingSet, 1 << 30), pool: pool) {
            copies.medianProductSeconds(x: x, vectors: 1, repetitions: repetitions, pool: pool)
        }
        // Medians kept in the units reported, so the report's figures are the rounds' exactly.
        let bandwidthGBs = median(probeRounds.map(\.readBandwidthGBs))
        let gemvMicroseconds = median(probeRounds.map(\.gemvMicroseconds))
        let gemvTime = gemvMicroseconds * 1e-6
        let shares = probeRounds.map { Double(bytes) / ($0.gemvMicroseconds * 1e3) / $0.readBandwidthGBs }
        common.log("bench-kernel: timing GEMM at batch \(batch)")
        let gemmTime = copies.medianProductSeconds(x: x, vectors: batch, repetitions: max(3, repetitions / 4), pool: pool)
        common.log("bench-kernel: timing float32 GEMV")
        let floatTime = WeightCopies(float32: weights, rows: rows, cols: cols, minimumBytes: workingSet)
            .medianProductSeconds(x: x, vectors: 1, repetitions: repetitions, pool: pool)
        common.log("bench-kernel: timing q8 GEMV (the kernel of q8 output heads)")
        let q8Copies = WeightCopies(q8: weights, rows: rows, cols: cols, minimumBytes: workingSet)
        let q8Time = q8Copies.medianProductSeconds(x: x, vectors: 1, repetitions: repetitions, pool: pool)

        let report = Report(
            isa: KernelISA.best.name, tables: precision.rawValue, rows: rows, cols: cols, bits: bits, groupSize: groupSize, batch: batch,
            threads: common.threads, packedBytes: bytes, bitsPerWeight: Double(bytes * 8) / Double(rows * cols),
            readBandwidthGBs: bandwidthGBs, tableBuildMicroseconds: tableTime * 1e6,
            gemvMicroseconds: gemvMicroseconds, gemvBandwidthGBs: Double(bytes) / gemvTime / 1e9,
            gemvFractionOfBandwidth: median(shares),
            floatGemvMicroseconds: floatTime * 1e6, speedupOverFloat: floatTime / gemvTime,
            q8GemvMicroseconds: q8Time * 1e6, q8GemvBandwidthGBs: Double(q8Copies.matrixBytes) / q8Time / 1e9,
            gemmMicroseconds: gemmTime * 1e6, gemmTokensPerSecond: Double(batch) / gemmTime,
            gemvTokensPerSecond: 1 / gemvTime, gemmOverGemv: Double(batch) / gemmTime * gemvTime, probeRounds: probeRounds)
        if common.json {
            try common.printJSON(report)
        } else {
            print(Self.table(report))
        }
    }

    /// `count` rounds of a read-probe pass (over `bytes`, on every thread of `pool`) and then
    /// `time`, which returns a GEMV's median seconds. The probe's buffer lives only for the rounds.
    private static func probeRounds(_ count: Int, bytes: Int, pool: ThreadPool, time: () -> Double) -> [ProbeRound] {
        let probe = ReadProbe(bytes: bytes, pool: pool)
        return (0..<count).map { _ in
            let bandwidth = probe.bestRate(of: 2)
            return ProbeRound(readBandwidthGBs: bandwidth / 1e9, gemvMicroseconds: time() * 1e6)
        }
    }

    static func table(_ r: Report) -> String {
        func f(_ v: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", v) }
        return """
            shape \(r.rows)x\(r.cols)  B=\(r.bits) g=\(r.groupSize)  threads=\(r.threads)  isa=\(r.isa)
            packed weights        \(f(Double(r.packedBytes) / 1e6, 2)) MB (\(f(r.bitsPerWeight, 3)) bits/weight)
            read bandwidth        \(f(r.readBandwidthGBs)) GB/s (median of \(r.probeRounds.count) rounds)
            table build           \(f(r.tableBuildMicroseconds)) us per vector
            LUT GEMV              \(f(r.gemvMicroseconds)) us  \(f(r.gemvBandwidthGBs)) GB/s  \(f(100 * r.gemvFractionOfBandwidth))% of read bandwidth (median of the rounds' shares)
            float32 GEMV          \(f(r.floatGemvMicroseconds)) us  (LUT is \(f(r.speedupOverFloat, 2))x faster)
            q8 GEMV               \(f(r.q8GemvMicroseconds)) us  \(f(r.q8GemvBandwidthGBs)) GB/s  \(f(100 * r.q8GemvBandwidthGBs / r.readBandwidthGBs))% of the median probe (not interleaved)
            LUT GEMM (M=\(r.batch))      \(f(r.gemmMicroseconds)) us  \(f(r.gemmTokensPerSecond)) tokens/s  (\(f(r.gemmOverGemv, 2))x GEMV's \(f(r.gemvTokensPerSecond)) tokens/s)
            """
    }
}
