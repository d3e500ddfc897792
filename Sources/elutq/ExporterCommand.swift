import ArgumentParser
import FleetMonitor
import Foundation
import Hummingbird
import Protocol

/// `elutq exporter`: the fleet's status and telemetry as Prometheus metrics.
struct ExporterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exporter",
        abstract: "Serve every device's status and telemetry as Prometheus metrics on /metrics.",
        discussion: """
            Metric names follow OpenTelemetry's Prometheus naming (process_memory_usage_bytes, \
            gen_ai_server_time_to_first_token_seconds{quantile}, elutq_requests_served_total, …), labelled by \
            device, group and model. elutq_device_up is 0 for a device that went offline; its last values stay. \
            firmware-notes/prometheus.yml and alerts.yml are a scrape configuration and alert rules for it.
            """)

    @Option(help: "Address and port to serve /metrics on.") var listen = ListenAddress(argument: "127.0.0.1:9464")!
    @OptionGroup var broker: BrokerOptions

    func run() throws {
        let metrics = FleetMetricsRegistry()
        // Prometheus keeps the history; the exporter needs only each device's last report.
        let feed = try FleetFeed(broker: broker, command: "exporter", historyCapacity: 1) { record in metrics.update(record) }
        defer { feed.client.stop() }
        let router = Router()
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: metrics.exposition())))
        }
        try serve(router, on: listen, announcing: "/metrics")
    }
}
