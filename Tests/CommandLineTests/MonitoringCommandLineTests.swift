import AgentHarness
import Foundation
import Glibc
import Protocol
import Testing
import TestSupport

extension BrokerTests {
    /// `elutq exporter` scraped by a real Prometheus, and `elutq dashboard` loaded in headless Chromium,
    /// with two agents serving prompts on a real mosquitto.
    @Suite(.needs(.executables)) struct Monitoring {
        /// Sends `count` short prompts to `device` and waits for every reply.
        func serve(_ harness: Harness, _ device: String, count: Int, tag: String = "p") throws {
            let ids = (0..<count).map { "\(device)-\(tag)\($0)" }
            for id in ids { harness.client.publish("elutq/\(device)/prompt", promptRequest(id, "Say one word.", maxTokens: 4)) }
            for id in ids { #expect(try harness.client.reply(id).final != nil, "\(id)") }
        }

        /// Starts `elutq COMMAND --listen 127.0.0.1:PORT` on the harness's broker and waits until `path` answers.
        func startServer(_ command: String, _ harness: Harness, path: String) throws -> (process: LaunchedProcess, url: String) {
            let port = try LoopbackPort.free()
            let process = try launch("elutq", [command, "--listen", "127.0.0.1:\(port)"] + harness.brokerFlags)
            let url = "http://127.0.0.1:\(port)"
            try waitUntil("elutq \(command) answers", timeout: 60) { !process.process.isRunning || httpGet(url + path) != nil }
            guard process.process.isRunning else { throw TestFailure("elutq \(command) exited:\n\(process.stderr())") }
            return (process, url)
        }

        /// SIGTERM, which the server takes as the signal to shut down cleanly.
        func stop(_ process: LaunchedProcess) throws {
            process.process.terminate()
            #expect(try process.waitForExit(timeout: 30) == 0, "\(process.stderr())")
        }

        @Test(.needs(.prometheus)) func prometheusScrapesTheExporter() throws {
            try withHarness { harness in
                try harness.startAgent("m1") { $0.group = "lab" }
                let second = try harness.startAgent("m2")
                let exporter = try startServer("exporter", harness, path: "/metrics")
                let prometheus = try PrometheusServer(targets: [String(exporter.url.dropFirst("http://".count))])
                try serve(harness, "m1", count: 3)
                try serve(harness, "m2", count: 2)
                try waitUntil("Prometheus has both devices' served counts", timeout: 60) {
                    prometheus.byDevice("elutq_requests_served_total") == ["m1": 3, "m2": 2]
                }
                #expect(prometheus.byDevice("elutq_device_up") == ["m1": 1, "m2": 1])
                #expect(prometheus.byDevice(#"elutq_device_up{group="lab",model="SmolLM2-135M-Instruct.Q4_1"}"#).keys.sorted() == ["m1"])
                let ttft = prometheus.byDevice(#"gen_ai_server_time_to_first_token_seconds{quantile="0.95"}"#)
                #expect(ttft.keys.sorted() == ["m1", "m2"] && ttft.values.allSatisfy { $0 > 0 }, "\(ttft)")
                #expect(prometheus.byDevice("process_memory_usage_bytes").values.allSatisfy { $0 > 10_000_000 })

                // The broker restarts (losing its retained messages): the exporter reconnects and goes on.
                harness.broker.kill()
                try harness.broker.start()
                try harness.client.status(of: "m1", online: true, fresh: true)
                try serve(harness, "m1", count: 1, tag: "after")
                try waitUntil("Prometheus sees the prompt served after the restart", timeout: 60) {
                    prometheus.byDevice("elutq_requests_served_total")["m1"] == 4
                }

                second.stop()
                try waitUntil("Prometheus sees m2 offline", timeout: 60) { prometheus.byDevice("elutq_device_up") == ["m1": 1, "m2": 0] }
                #expect(prometheus.byDevice("elutq_requests_served_total") == ["m1": 4, "m2": 2])
                try stop(exporter.process)
            }
        }

        /// Set `ELUTQ_DASHBOARD_SCREENSHOT=docs/dashboard.png` to keep the test's screenshot for the README.
        @Test(.needs(.chromium)) func theDashboardShowsBothDevicesAndUpdatingCharts() throws {
            try withHarness { harness in
                try harness.startAgent("m1") { $0.group = "lab" }
                try harness.startAgent("m2")
                let dashboard = try startServer("dashboard", harness, path: "/fleet")
                try serve(harness, "m1", count: 2)
                let browser = try HeadlessChromium()
                try browser.open(dashboard.url + "/")
                func number(_ expression: String) -> Int { Int((try? browser.evaluate(expression))?.number ?? -1) }
                try waitUntil("the page shows both devices", timeout: 60) { number("document.querySelectorAll('#devices tr.online').length") == 2 }
                let row = try browser.evaluate("document.getElementById('device-m1').innerText").string ?? ""
                #expect(row.contains("SmolLM2-135M-Instruct.Q4_1") && row.contains("lab"), "\(row)")
                let points = "Number(document.getElementById('memory').dataset.points)"
                let initial = number("Number(document.getElementById('memory').dataset.initialPoints)")
                #expect(initial >= 2)
                // The broker restarts under the open page; prompts served after it reach the page as
                // server-sent events, once the dashboard has reconnected: their counts and new points.
                harness.broker.kill()
                try harness.broker.start()
                try harness.client.status(of: "m2", online: true, fresh: true)
                try serve(harness, "m2", count: 3)
                try waitUntil("the page shows m2's prompts served", timeout: 60) {
                    ((try? browser.evaluate("document.getElementById('device-m2').innerText"))?.string ?? "").contains("\t3\t")
                }
                try waitUntil("the charts gained points", timeout: 30) { number(points) > initial + 2 }
                #expect(number("Number(document.getElementById('events').textContent)") > 0)
                #expect(number("Number(document.getElementById('ttft').dataset.points)") > 0)
                let screenshot = ProcessInfo.processInfo.environment["ELUTQ_DASHBOARD_SCREENSHOT"]
                    ?? harness.broker.directory.appendingPathComponent("dashboard.png").path
                try browser.screenshot(to: screenshot)
                #expect(try Data(contentsOf: URL(fileURLWithPath: screenshot)).starts(with: [0x89, 0x50, 0x4E, 0x47]))
                try stop(dashboard.process)
            }
        }
    }
}
