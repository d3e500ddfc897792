import ArgumentParser
import Foundation
import Glibc
import NIOConcurrencyHelpers
import Parallel
import Runtime

/// When a progress line last went to a log.
private let loggedProgress = ProgressClock()

/// A clock that says when `seconds` have passed since it last said so.
private final class ProgressClock: Sendable {
    private let last = NIOLockedValueBox<ContinuousClock.Instant?>(nil)

    func due(every seconds: Int) -> Bool {
        let now = ContinuousClock.now
        return last.withLockedValue { last in
            if let previous = last, now - previous < .seconds(seconds) { return false }
            last = now
            return true
        }
    }
}

/// Options every model command takes, and the small output helpers they share.
struct CommonOptions: ParsableArguments {
    @Option(help: "Threads, the caller included.") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Flag(help: "Print one JSON object instead of text.") var json = false

    func validate() throws {
        guard threads > 0 else { throw ValidationError("--threads must be positive") }
    }

    /// Opens a model with a clear message when it cannot be read.
    func loadModel(_ path: String, pool: ThreadPool, arithmetic: HLQArithmetic) throws -> LoadedModel {
        log("loading \(path)")
        do {
            return try LoadedModel.open(path, pool: pool, arithmetic: arithmetic)
        } catch {
            throw ValidationError("cannot load \(path): \(error)")
        }
    }

    /// A line on stderr, unless JSON output was asked for (stdout stays machine-readable either way).
    func log(_ message: String) {
        if !json { FileHandle.standardError.write(Data("\(message)\n".utf8)) }
    }

    /// A progress line that overwrites itself on a terminal; a log or pipe gets one line at most
    /// every 30 seconds, so a run of half an hour under `nohup` still says where it is.
    func progress(_ line: String) {
        if json { return }
        if isatty(STDERR_FILENO) != 0 {
            FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
        } else if loggedProgress.due(every: 30) {
            FileHandle.standardError.write(Data("\(line)\n".utf8))
        }
    }

    func endProgress() {
        if !json && isatty(STDERR_FILENO) != 0 { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    func printJSON<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}

/// The checks every command that takes --bits and --group-size makes.
func validateQuantization(bits: Int, groupSize: Int) throws {
    guard (1...4).contains(bits) else { throw ValidationError("--bits must be 1...4") }
    guard groupSize >= 32, groupSize % 32 == 0, groupSize <= 1024 else {
        throw ValidationError("--group-size must be a multiple of 32 up to 1024")
    }
}

/// The contents of the text file an option names, or an error that names the option.
func readText(_ path: String, option: String) throws -> String {
    do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
        throw ValidationError("cannot read --\(option) \(path): \(error.localizedDescription)")
    }
}
