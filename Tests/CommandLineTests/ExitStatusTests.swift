import Testing
import TestSupport

/// How `elutq` exits, run as the built executable: a command line it cannot parse or validate is a
/// usage error (status 64, with the usage); a failure while a valid command runs is not (status 1,
/// the message alone).
@Suite(.needs(.executables)) struct ExitStatusTests {
    @Test func aMissingModelFailsWithoutTheUsage() throws {
        let result = try run("elutq", ["run", "/nonexistent/model.hlq", "--prompt", "hi"])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("cannot load /nonexistent/model.hlq"), "\(result.stderr)")
        #expect(!result.stderr.uppercased().contains("USAGE"), "\(result.stderr)")
    }

    @Test(arguments: [
        ["run", "/nonexistent/model.hlq", "--prompt", "hi", "--no-such-flag"],
        ["run", "/nonexistent/model.hlq", "--prompt", "hi", "--max-tokens", "0"],
    ])
    func aWrongCommandLineIsAUsageError(arguments: [String]) throws {
        let result = try run("elutq", arguments)
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.uppercased().contains("USAGE"), "\(result.stderr)")
    }
}
