import Engine
import Foundation
import Testing

/// The paths the kernel tests hold against scalar, and a check that they are real SIMD paths.
///
/// A comparison of scalar with scalar passes and proves nothing, so what the CPU offers is read
/// from the operating system (/proc/cpuinfo), independently of the kernels' own feature test: a CPU
/// with the instructions of a path must have that path compared, and the engine must decode on it
/// or on a wider one.
@Suite struct KernelISATests {
    /// Every path this CPU runs besides scalar.
    static let simdPaths = KernelISA.allCases.filter { $0 != .scalar && $0.isSupported }

    @Test func everySIMDPathTheCPUHasIsCompared() throws {
        #if arch(arm64)
        #expect(Self.simdPaths == [.neon])
        #expect(KernelISA.best == .neon)
        #else
        let flags = try Self.cpuFlags()
        if flags.isSuperset(of: ["avx2", "fma", "f16c"]) {
            #expect(Self.simdPaths.contains(.avx2))
            #expect(KernelISA.best != .scalar)
        }
        if flags.isSuperset(of: ["avx512f", "avx512bw", "avx512vbmi", "avx512vl", "avx512dq", "fma"]) {
            #expect(Self.simdPaths.contains(.avx512vbmi))
            #expect(KernelISA.best == .avx512vbmi)
        }
        #endif
    }

    /// The first processor's feature flags as Linux lists them.
    static func cpuFlags() throws -> Set<String> {
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let line = try #require(cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") })
        return Set(line.split(separator: ":", maxSplits: 1).last!.split(separator: " ").map(String.init))
    }
}
