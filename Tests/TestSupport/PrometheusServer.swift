import Foundation
import Glibc
import Protocol

/// Debian's Prometheus on a free 127.0.0.1 port, scraping `targets` every second into a temporary
/// directory, stopped when the test lets go of it.
public final class PrometheusServer {
    public static let executable = "/usr/bin/prometheus"
    public let port: Int
    private let directory: URL
    private let process = Process()

    public init(targets: [String]) throws {
        try TestNeed.prometheus.checkDeclared()
        guard FileManager.default.isExecutableFile(atPath: Self.executable) else {
            throw TestFailure("\(Self.executable) is missing: run tools/bootstrap (apt package prometheus)")
        }
        directory = try makeTemporaryDirectory("prometheus")
        port = try LoopbackPort.free()
        let config = """
            global:
              scrape_interval: 1s
            scrape_configs:
              - job_name: elutq
                honor_labels: true
                static_configs:
                  - targets: [\(targets.map { "\"\($0)\"" }.joined(separator: ", "))]

            """
        let configFile = directory.appendingPathComponent("prometheus.yml")
        try config.write(to: configFile, atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = ["--config.file=\(configFile.path)", "--storage.tsdb.path=\(directory.appendingPathComponent("data").path)",
                             "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn"]
        let log = directory.appendingPathComponent("prometheus.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: log)
        process.standardError = process.standardOutput
        try process.run()
        try waitUntil("Prometheus answers on port \(port)", timeout: 60) {
            guard process.isRunning else { return true }
            return httpGet("http://127.0.0.1:\(port)/-/ready", timeout: 2) != nil
        }
        guard process.isRunning else {
            throw TestFailure("prometheus exited:\n\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        }
    }

    /// Runs Debian's `promtool` (Prometheus's checker and rule tester) in the package's root.
    public static func promtool(_ arguments: [String]) throws -> ProcessResult {
        try TestNeed.prometheus.checkDeclared()
        let tool = URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("promtool")
        guard FileManager.default.isExecutableFile(atPath: tool.path) else {
            throw TestFailure("\(tool.path) is missing: run tools/bootstrap (apt package prometheus)")
        }
        return try run(program: tool, arguments)
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// An instant query through the HTTP API: each series's labels and value.
    public func query(_ promQL: String) -> [(labels: [String: String], value: Double)] {
        var components = URLComponents(string: "http://127.0.0.1:\(port)/api/v1/query")!
        components.queryItems = [URLQueryItem(name: "query", value: promQL)]
        guard let body = httpGet(components.url!.absoluteString), let answer = try? JSON(parsing: Array(body.utf8)),
              answer["status"]?.string == "success" else { return [] }
        return (answer["data"]?["result"]?.array ?? []).compactMap { series in
            guard let value = series["value"]?.array?.last?.string.flatMap(Double.init) else { return nil }
            let labels = (series["metric"]?.object ?? [:]).compactMapValues(\.string)
            return (labels, value)
        }
    }

    /// The value of each device's series of an instant query, by device.
    public func byDevice(_ promQL: String) -> [String: Double] {
        Dictionary(query(promQL).compactMap { series in series.labels["device"].map { ($0, series.value) } }) { first, _ in first }
    }
}
