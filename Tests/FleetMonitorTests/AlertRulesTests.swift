import Foundation
import Testing
import TestSupport

/// The scrape configuration and alert rules in firmware-notes/, checked and run by Prometheus's
/// own `promtool`: each alert fires for the sick device of its case, at the time it should, with
/// its summary as written, and for no healthy one (the cases are in alerts-test.yml).
@Suite(.needs(.prometheus)) struct AlertRulesTests {
    @Test func theConfigurationAndTheRulesAreValid() throws {
        let rules = try alertNames().count
        let checked = try PrometheusServer.promtool(["check", "config", "firmware-notes/prometheus.yml"])
        #expect(checked.status == 0, "\(checked.stdout)\(checked.stderr)")
        #expect(checked.stdout.contains("SUCCESS: \(rules) rules found"), "\(checked.stdout)")
    }

    @Test func everyAlertFiresWhenItShouldAndOnlyThen() throws {
        let tested = try PrometheusServer.promtool(["test", "rules", "firmware-notes/alerts-test.yml"])
        #expect(tested.status == 0, "\(tested.stdout)\(tested.stderr)")
        #expect(tested.stdout.contains("SUCCESS") && !tested.stdout.contains("FAILED"), "\(tested.stdout)")
        let cases = try String(contentsOf: packageRoot.appendingPathComponent("firmware-notes/alerts-test.yml"), encoding: .utf8)
        let names = try alertNames()
        #expect(!names.isEmpty)
        for name in names { #expect(cases.contains("alertname: \(name)"), "no case for \(name)") }
    }

    /// The alerts alerts.yml defines, by name.
    private func alertNames() throws -> [Substring] {
        let rules = try String(contentsOf: packageRoot.appendingPathComponent("firmware-notes/alerts.yml"), encoding: .utf8)
        return rules.split(separator: "\n").compactMap { line in
            let trimmed = line.drop { $0 == " " }
            return trimmed.hasPrefix("- alert: ") ? trimmed.dropFirst("- alert: ".count) : nil
        }
    }
}
