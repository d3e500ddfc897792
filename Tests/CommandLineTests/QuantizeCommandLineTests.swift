import Foundation
import ModelFile
import Testing
import TestSupport

/// `elutq quantize`, run as the built executable: targets and recipes it cannot honour are refused
/// with a message that says why, before any work is done and without leaving a file behind, and
/// per-block recipe items reach exactly the tensors they name.
@Suite(.needs(.executables, .realModel)) struct QuantizeCommandLineTests {
    @Test(arguments: [
        (["--target-bpw", "3"], "needs --calibrate"),
        (["--target-bpw", "nan", "--calibrate", "/usr/share/common-licenses/GFDL-1.3"], "positive number"),
        (["--target-bpw=-1", "--calibrate", "/usr/share/common-licenses/GFDL-1.3"], "positive number"),
        (["--target-bpw", "2", "--calibrate", "/usr/share/common-licenses/GFDL-1.3"], "out of reach"),
        (["--target-bpw", "5", "--calibrate", "/usr/share/common-licenses/GFDL-1.3"], "out of reach"),
    ])
    func badFlagsAreRefused(flags: [String], message: String) throws {
        let model = try realModelPath()
        try withTemporaryDirectory { directory in
            let output = directory.appendingPathComponent("m.hlq").path
            let result = try run("elutq", ["quantize", model, "-o", output] + flags)
            #expect(result.status != 0)
            #expect(result.stderr.contains(message), "\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: output))
        }
    }

    @Test(arguments: [
        (["--recipe", "blk.30.ffn_down=4"], "names block 30, but"),
        (["--recipe", "blk.3-1.attn=4"], "blk.FIRST-LAST.class"),
        (["--recipe", "blk.x.attn=4"], "blk.FIRST-LAST.class"),
        (["--recipe", "blk.0=4"], "blk.FIRST-LAST.class"),
        (["--recipe", "blk.0..attn=4"], "unknown tensor class '.attn'"),
        (["--recipe", "blk.0-99999999.attn=4"], "blk.FIRST-LAST.class"),
        (["--recipe", "blk.0.ffn_sideways=4"], "unknown tensor class 'ffn_sideways'"),
    ])
    func badBlockItemsAreRefused(flags: [String], message: String) throws {
        try badFlagsAreRefused(flags: flags, message: message)
    }

    @Test(arguments: [
        (["--drift-correction", "1.5", "--calibrate", "/usr/share/common-licenses/GFDL-1.3"], "from 0 to 1"),
        (["--drift-correction", "0.3", "--true-sequential", "--calibrate", "/usr/share/common-licenses/GFDL-1.3"],
         "cannot be combined with --true-sequential"),
    ])
    func badDriftCorrectionsAreRefused(flags: [String], message: String) throws {
        try badFlagsAreRefused(flags: flags, message: message)
    }

    /// `blk.0-1.attn = 4` and `blk.29.ffn_down=hlq3/256` change those tensors only, and win over the
    /// class item `ffn_down=3` in block 29; spaces around items and `=` do not matter.
    @Test func blockItemsReachTheirTensorsOnly() throws {
        let model = try realModelPath()
        try withTemporaryDirectory { directory in
            let output = directory.appendingPathComponent("m.hlq").path
            let result = try run("elutq", ["quantize", model, "-o", output, "--bits", "2", "--json",
                                           "--recipe", "blk.0-1.attn = 4, ffn_down=3,blk.29.ffn_down=hlq3/256"])
            #expect(result.status == 0, "\(result.stderr)")
            let file = try HLQFile(path: output)
            var expected: [String: HLQTensorType] = [:]
            for block in 0..<30 {
                for layer in LinearLayer.allCases where layer != .outputHead {
                    let bits = layer == .down ? 3 : layer.isAttention && block < 2 ? 4 : 2
                    let groupSize = layer == .down && block == 29 ? 256 : 128
                    expected["blk.\(block).\(layer.rawValue).weight"] = .hlq(bits: bits, groupSize: groupSize)
                }
            }
            for (name, type) in expected {
                #expect(file.tensor(named: name)?.type == type, "\(name)")
            }
        }
    }
}
