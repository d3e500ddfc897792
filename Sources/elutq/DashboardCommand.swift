import ArgumentParser
import FleetMonitor
import Foundation
import Hummingbird
import Protocol

/// `elutq dashboard`: a live web page of the fleet, fed by this process's MQTT connection.
struct DashboardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "Serve a live web page of the fleet: a row per device and charts of the last hour.",
        discussion: """
            The page needs no broker access: this command holds the MQTT connection and sends each report to the \
            page as a server-sent event. Charts are drawn by Debian's libjs-chart.js, served from \
            /usr/share/javascript/chart.js, so the page works offline.
            """)

    /// Debian's Chart.js (package libjs-chart.js), served to the page as /chart.js.
    static let chartLibrary = "/usr/share/javascript/chart.js/chart.min.js"

    @Option(help: "Address and port to serve the page on.") var listen = ListenAddress(argument: "127.0.0.1:8080")!
    @OptionGroup var broker: BrokerOptions

    func run() throws {
        guard let chartLibrary = FileManager.default.contents(atPath: Self.chartLibrary) else {
            throw failure("\(Self.chartLibrary) is missing: install the Debian package libjs-chart.js")
        }
        let events = DashboardEvents()
        let feed = try FleetFeed(broker: broker, command: "dashboard") { record in events.publish(record.summary) }
        defer { feed.client.stop() }
        let router = Router()
        router.get("/") { _, _ in Self.response(DashboardPage.html, type: "text/html; charset=utf-8") }
        router.get("/chart.js") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/javascript"], body: .init(byteBuffer: ByteBuffer(bytes: chartLibrary)))
        }
        // Every device's row, which the page loads once before it listens to /events. Histories
        // come one device at a time, for the devices the page charts: a fleet of a thousand
        // would otherwise send tens of megabytes before the page could show anything.
        router.get("/fleet") { _, _ in
            Self.response(JSON.object(["window": JSON(feed.state.window), "devices": .array(feed.state.devices.map(\.row))]).serialized,
                          type: "application/json")
        }
        router.get("/history") { request, _ in
            guard let device = request.uri.queryParameters["device"], let record = feed.state.record(of: String(device)) else {
                throw HTTPError(.notFound, message: "no such device")
            }
            return Self.response(JSON.object(["device": .string(record.device), "points": .array(record.history.elements.map(\.document))]).serialized,
                                 type: "application/json")
        }
        router.get("/events") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                     body: .init(asyncSequence: events.subscribe()))
        }
        try serve(router, on: listen, announcing: "/", onShutdown: events.finish)
    }

    private static func response(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
