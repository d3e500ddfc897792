import ArgumentParser
import Foundation
import ModelFile

/// `elutq verify`: checks every checksum of a `.hlq` model.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a .hlq model: its header, metadata and directory, then every tensor's CRC-32C.",
        discussion: "Exits non-zero and names the first problem if the file is truncated, corrupt or of another version.")

    @Argument(help: "A .hlq model file.") var file: String
    @OptionGroup var common: CommonOptions

    struct Report: Codable {
        var file: String
        var ok: Bool
        var tensors: Int
        var bytes: Int
        var problem: String?
    }

    func run() throws {
        var report = Report(file: file, ok: false, tensors: 0, bytes: 0, problem: nil)
        do {
            let model = try HLQFile(path: file)
            report.tensors = model.tensors.count
            report.bytes = model.fileSize
            try model.verify { checked, total in
                common.progress(String(format: "verifying %.0f%%", 100 * Double(checked) / Double(max(total, 1))))
            }
            common.endProgress()
            report.ok = true
        } catch {
            common.endProgress()
            report.problem = "\(error)"
        }
        if common.json {
            try common.printJSON(report)
        } else if report.ok {
            print("\(file): ok, \(report.tensors) tensors, \(report.bytes) bytes, every checksum matches")
        } else {
            print("\(file): \(report.problem ?? "invalid")")
        }
        if !report.ok { throw ExitCode.failure }
    }
}
