import Foundation
import ModelFile
import Testing
import TestSupport

/// `elutq quantize --finetune` and `elutq finetune`, run as the built executable on the real
/// SmolLM2 with a few short sequences: the finetuned model is written in place of GPTQ's, with the
/// same bit patterns and a record of the finetuning; bad input is refused before any work.
@Suite(.needs(.executables, .realModel)) struct FinetuneCommandLineTests {
    static let licences = "/usr/share/common-licenses"
    /// Small enough to run in seconds, large enough for two sequences and a held-out one.
    static let small = ["--calibration-chunks", "2", "--calibration-length", "64", "--finetune-samples", "6",
                        "--finetune-length", "32", "--finetune-epochs", "1", "--finetune-held-out-every", "3"]

    @Test func quantizeWithFinetuneWritesTheFinetunedModel() throws {
        let model = try realModelPath()
        try withTemporaryDirectory { directory in
            let output = directory.appendingPathComponent("m.hlq").path
            let result = try run("elutq", ["quantize", model, "-o", output, "--bits", "2", "--calibrate", "\(Self.licences)/Apache-2.0",
                                           "--finetune"] + Self.small, timeout: 900)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("block 30/30"), "progress for every block")
            #expect(result.stderr.contains("step 4/4"), "progress for every end-to-end step")
            let file = try HLQFile(path: output)
            #expect(file.metadata.recipe.finetuning?.contains("end-to-end") == true, "\(String(describing: file.metadata.recipe.finetuning))")
            let left = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            #expect(left == ["m.hlq"], "GPTQ's intermediate model and the checkpoint are gone: \(left)")

            // Finetuned further by `elutq finetune`: block stage only, the bit planes untouched.
            let again = directory.appendingPathComponent("again.hlq").path
            let tuned = try run("elutq", ["finetune", output, "--source", model, "--calibrate", "\(Self.licences)/MPL-2.0",
                                          "-o", again, "--stages", "block", "--finetune-lr", "1e-3"] + Self.small.dropFirst(4), timeout: 900)
            #expect(tuned.status == 0, "\(tuned.stderr)")
            let second = try HLQFile(path: again)
            let name = "blk.7.ffn_down.weight"
            #expect(Array(file.hlqParts(of: file.tensor(named: name)!).bits) == Array(second.hlqParts(of: second.tensor(named: name)!).bits))
            #expect(Array(file.hlqParts(of: file.tensor(named: name)!).params) != Array(second.hlqParts(of: second.tensor(named: name)!).params))
        }
    }

    @Test(arguments: [
        (["quantize", "MODEL", "-o", "OUT", "--finetune"], 64, "--finetune needs --calibrate"),
        (["quantize", "MODEL", "-o", "OUT", "--finetune", "sideways", "--calibrate", "TEXT"], 64, "sideways"),
        (["finetune", "MODEL", "--source", "MODEL", "-o", "OUT"], 64, "--calibrate is required"),
        (["finetune", "MODEL", "--source", "MODEL", "-o", "OUT", "--calibrate", "TEXT", "--finetune-samples", "1"], 64, "at least 2"),
        (["finetune", "MODEL", "--source", "MODEL", "-o", "OUT", "--calibrate", "TEXT"], 1, "not an .hlq file"),
        (["finetune", "/nonexistent.hlq", "--source", "MODEL", "-o", "OUT", "--calibrate", "TEXT"], 1, "/nonexistent.hlq"),
    ])
    func badInputIsRefused(arguments: [String], status: Int32, message: String) throws {
        let model = try realModelPath()
        try withTemporaryDirectory { directory in
            let output = directory.appendingPathComponent("out.hlq").path
            let arguments = arguments.map { $0 == "MODEL" ? model : $0 == "OUT" ? output : $0 == "TEXT" ? "\(Self.licences)/BSD" : $0 }
            let result = try run("elutq", arguments)
            #expect(result.status == status, "\(result.stderr)")
            #expect(result.stderr.contains(message), "\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: output))
        }
    }
}
