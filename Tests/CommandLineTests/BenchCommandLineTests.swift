import Foundation
import Protocol
import Testing
import TestSupport

/// `elutq bench --profile --read-probe`, run as the built executable on the real SmolLM2 in 2-bit HLQ.
@Suite(.needs(.executables, .realModel)) struct BenchCommandLineTests {
    /// Each kind of work shows up where it happens: LUT products in both tests, no dense product
    /// in an all-HLQ model, sampling only in decoding, and shares that account for the whole pass.
    @Test func theProfileSharesAPassOutByKindOfWork() throws {
        try withTemporaryDirectory { directory in
            let model = directory.appendingPathComponent("m.hlq").path
            let quantized = try run("elutq", ["quantize", try realModelPath(), "-o", model, "--bits", "2"])
            #expect(quantized.status == 0, "\(quantized.stderr)")
            let bench = try run("elutq", ["bench", model, "--prompt-tokens", "16", "--gen-tokens", "8", "--repetitions", "3",
                                          "--threads", "2", "--profile", "--read-probe", "--json"])
            #expect(bench.status == 0, "\(bench.stderr)")
            let report = try JSON(parsing: Array(bench.stdout.utf8))
            // The weight stream: the tied model's matrices are nearly all of its file (norms, the
            // header and alignment are the rest), read once a token at tg's rate.
            let weightBytes = try #require(report["weightBytesPerToken"]?.number)
            let mapped = try #require(report["mappedModelBytes"]?.number)
            #expect(weightBytes > 0.9 * mapped && weightBytes <= mapped, "\(weightBytes) of \(mapped)")
            let tg = try #require(report["results"]?.array?.last?["tokensPerSecondMean"]?.number)
            let stream = try #require(report["decodeWeightGBs"]?.number)
            #expect(abs(stream - weightBytes * tg / 1e9) <= 1e-9 * stream)
            // The probe's rounds, each after one more decode run: the reported figures are their medians.
            let rounds = try #require(report["probeRounds"]?.array)
            #expect(rounds.count == 3)
            let streams = rounds.compactMap { $0["decodeWeightGBs"]?.number }
            let bandwidths = rounds.compactMap { $0["readBandwidthGBs"]?.number }
            #expect(streams.count == 3 && bandwidths.count == 3 && (streams + bandwidths).allSatisfy { $0 > 0 })
            let fractions = zip(streams, bandwidths).map { $0 / $1 }.sorted()
            #expect(report["readBandwidthGBs"]?.number == bandwidths.sorted()[1])
            #expect(abs((report["decodeFractionOfBandwidth"]?.number ?? 0) - fractions[1]) <= 1e-9 * fractions[1])
            let profiles = try #require(report["profile"]?.array)
            #expect(profiles.map { $0["test"]?.string } == ["pp16", "tg8"])
            for profile in profiles {
                var share: [String: Double] = [:]
                for entry in profile["shares"]?.array ?? [] { share[entry["work"]?.string ?? "?"] = entry["share"]?.number }
                let decoding = profile["test"]?.string == "tg8"
                #expect(share["LUT products", default: 0] > 0.1, "\(share)")
                #expect(share["activation tables", default: 0] > 0 && share["attention", default: 0] > 0)
                #expect(share["output head", default: 0] > 0 && share["norms, rotary, residuals", default: 0] > 0)
                #expect(share["dense products"] == 0, "an all-HLQ model has no dense block product")
                #expect((share["sampling", default: 0] > 0) == decoding)
                #expect(share.values.allSatisfy { $0 >= 0 })
                #expect(abs(share.values.reduce(0, +) - 1) < 1e-6)
                #expect(share["other", default: 1] < 0.05, "time the profile does not account for: \(share)")
            }
        }
    }
}
