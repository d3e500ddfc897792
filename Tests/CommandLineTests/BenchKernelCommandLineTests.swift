import Foundation
import Protocol
import Testing
import TestSupport

/// `elutq bench-kernel`, run as the built executable on a small random matrix.
@Suite(.needs(.executables)) struct BenchKernelCommandLineTests {
    /// The read probe runs in rounds interleaved with the GEMV's, and the reported bandwidth, GEMV
    /// time and share are the medians of the rounds' (the share of each round's GEMV over its own
    /// probe), with the decode default, int8 tables.
    @Test func theGemvShareIsTheMedianOfInterleavedRounds() throws {
        let bench = try run("elutq", ["bench-kernel", "--rows", "256", "--cols", "512", "--batch", "4", "--repetitions", "3",
                                      "--rounds", "3", "--working-set-mb", "64", "--threads", "2", "--json"])
        #expect(bench.status == 0, "\(bench.stderr)")
        let report = try JSON(parsing: Array(bench.stdout.utf8))
        #expect(report["tables"]?.string == "int8")
        let rounds = try #require(report["probeRounds"]?.array)
        #expect(rounds.count == 3)
        let bandwidths = rounds.compactMap { $0["readBandwidthGBs"]?.number }
        let times = rounds.compactMap { $0["gemvMicroseconds"]?.number }
        #expect(bandwidths.count == 3 && times.count == 3 && (bandwidths + times).allSatisfy { $0 > 0 })
        let bytes = try #require(report["packedBytes"]?.number)
        let shares = zip(bandwidths, times).map { bytes / ($1 * 1e-6) / ($0 * 1e9) }.sorted()
        #expect(report["readBandwidthGBs"]?.number == bandwidths.sorted()[1])
        #expect(report["gemvMicroseconds"]?.number == times.sorted()[1])
        let share = try #require(report["gemvFractionOfBandwidth"]?.number)
        #expect(abs(share - shares[1]) <= 1e-9 * shares[1])
    }

    /// Bad sizes are refused before anything is measured.
    @Test func nonPositiveRoundsAreRefused() throws {
        let bench = try run("elutq", ["bench-kernel", "--rounds", "0"])
        #expect(bench.status != 0)
        #expect(bench.stderr.contains("--rounds"), "\(bench.stderr)")
    }
}
