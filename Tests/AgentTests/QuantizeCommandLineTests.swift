import Foundation
import Testing
import TestSupport

/// `elutq quantize --target-bpw`, run as the built executable: targets it cannot honour are refused
/// with a message that says why, before any work is done and without leaving a file behind.
@Suite struct QuantizeCommandLineTests {
    @Test(arguments: [
        (["--target-bpw", "3"], "needs --calibrate"),
        (["--target-bpw", "nan", "--calibrate", "/usr/share/common-licenses/GFDL-1.3"], "positive number"),
        (["--target-bpw=-1", "--calibrate", "/usr/share/common-licenses/GFDL-1.3"], "positive number"),
        (["--target-bpw", "2", "--calibrate", "/usr/share/common-licenses/GFDL-1.3"], "out of reach"),
        (["--target-bpw", "5", "--calibrate", "/usr/share/common-licenses/GFDL-1.3"], "out of reach"),
    ])
    func nonsenseTargetsAreRefused(flags: [String], message: String) throws {
        let model = try realModelPath()
        try withTemporaryDirectory { directory in
            let output = directory.appendingPathComponent("m.hlq").path
            let result = try run("elutq", ["quantize", model, "-o", output] + flags)
            #expect(result.status != 0)
            #expect(result.stderr.contains(message), "\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: output))
        }
    }
}
