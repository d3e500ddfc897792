import Foundation
import Testing

/// What a test needs beyond Swift and the libraries the package builds with. A test or suite that
/// needs any of these says so with `.needs(...)`; a test that declares nothing is a unit test.
///
/// `ELUTQ_TESTS=unit` (what `tools/test --unit` sets) skips every test that declares a need, so
/// the unit tests run on a machine with nothing but the build's dependencies, in about a minute.
/// Without it every test runs, and a missing broker, model or Python package fails the tests that
/// need it. (A condition rather than a tag: `swift test` in Swift 6.3 cannot select by tag.)
public enum TestNeed: String, Sendable {
    /// A private mosquitto (`MosquittoBroker`).
    case broker
    /// The built `elutq` and `elutq-agent` (`run`, `launch`).
    case executables
    /// The real models in `.cache/models` (`realModelPath()`, `realQwenModelPath()`).
    case realModel
    /// A Python oracle from `tools/dev` (`runPythonTool`), with tools/setup/test-requirements.txt installed.
    case pythonOracle
    /// Debian's `prometheus` server and its `promtool` (`PrometheusServer`, `PrometheusServer.promtool`).
    case prometheus
    /// Debian's `chromium`, run headless (`headlessChromium`).
    case chromium

    /// Whether this run is limited to the unit tests.
    public static let unitTestsOnly = ProcessInfo.processInfo.environment["ELUTQ_TESTS"] == "unit"

    /// Called where each need is met: in a unit-only run, reaching it means the test did not
    /// declare the need, and it fails saying so rather than quietly using a broker or a model.
    func checkDeclared() throws {
        guard !Self.unitTestsOnly else {
            throw TestFailure("this test uses \(rawValue) without declaring .needs(.\(rawValue)), yet ELUTQ_TESTS=unit runs unit tests only")
        }
    }
}

extension Trait where Self == ConditionTrait {
    /// A test or suite that needs `needs`: it runs unless `ELUTQ_TESTS=unit` limits the run to unit tests.
    public static func needs(_ needs: TestNeed..., sourceLocation: SourceLocation = #_sourceLocation) -> Self {
        .enabled(if: !TestNeed.unitTestsOnly,
                 Comment(rawValue: "needs \(needs.map(\.rawValue).joined(separator: ", ")); ELUTQ_TESTS=unit runs unit tests only"),
                 sourceLocation: sourceLocation)
    }
}
