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
                // Rows appear as soon as /fleet arrives; the charts' first points only once every
                // charted device's history has loaded, which the page marks with `loadedMs`.
                try waitUntil("the page shows both devices with their history", timeout: 60) {
                    number("document.querySelectorAll('#devices tr.online').length") == 2 && number("Number(document.body.dataset.loadedMs || 0)") > 0
                }
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

        /// A thousand simulated devices (`fake-fleet`, reporting every 10 s): the page shows every
        /// row and charts eight, a click charts another with its history in place of the oldest,
        /// and the charts keep gaining points. With `ELUTQ_DASHBOARD_MEASURE=FILE` it also writes
        /// what the browser measured there (`tools/measure/measure-dashboard`).
        @Test(.needs(.chromium)) func theDashboardCarriesAThousandDevices() throws {
            try withHarness { harness in
                let fleet = try launch("fake-fleet", ["1000", "--interval", "10", "--host", "127.0.0.1", "--port", String(harness.broker.port)])
                defer {
                    fleet.process.terminate()
                    _ = try? fleet.waitForExit(timeout: 30)
                }
                let dashboard = try startServer("dashboard", harness, path: "/fleet")
                try waitUntil("the dashboard knows every device", timeout: 60) {
                    (httpGet(dashboard.url + "/fleet")?.components(separatedBy: "\"device\":").count ?? 0) - 1 == 1000
                }
                let browser = try HeadlessChromium()
                try browser.open(dashboard.url + "/")
                func number(_ expression: String) -> Int { Int((try? browser.evaluate(expression))?.number ?? -1) }
                func text(_ expression: String) -> String { (try? browser.evaluate(expression))?.string ?? "" }
                try waitUntil("the page shows every device", timeout: 120) {
                    number("document.querySelectorAll('#devices tr.online').length") == 1000 && number("Number(document.body.dataset.loadedMs || 0)") > 0
                }
                #expect(text("document.getElementById('totals').textContent").hasPrefix("1000 devices · 1000 online"))
                let labels = "charts.tokens.data.datasets.map(dataset => dataset.label).join(' ')"
                #expect(text(labels) == (0..<8).map { String(format: "sim-%04d", $0) }.joined(separator: " "))

                // Charted with its history: its line starts at the first point the dashboard kept,
                // which no live update can bring.
                func firstPoint() -> Double? {
                    let history = try? JSON(parsing: Array((httpGet(dashboard.url + "/history?device=sim-0500") ?? "").utf8))
                    return history?["points"]?.array?.first?["t"]?.number
                }
                try waitUntil("sim-0500 has reported", timeout: 30) { firstPoint() != nil }
                let first = try #require(firstPoint())
                _ = try browser.evaluate("document.getElementById('device-sim-0500').click()")
                try waitUntil("sim-0500 is charted with its history", timeout: 30) {
                    (try? browser.evaluate("charts.tokens.data.datasets.find(dataset => dataset.label == 'sim-0500')?.data[0]?.x ?? 0"))?.number == first
                }
                #expect(text(labels) == ((1..<8).map { String(format: "sim-%04d", $0) } + ["sim-0500"]).joined(separator: " "))
                let points = "Number(document.getElementById('tokens').dataset.points)"
                let before = number(points)
                try waitUntil("the charts gained points", timeout: 60) { number(points) > before }

                if let path = ProcessInfo.processInfo.environment["ELUTQ_DASHBOARD_MEASURE"] {
                    try measure(browser, dashboard: dashboard.process, to: path)
                }
                try stop(dashboard.process)
            }
        }

        /// Ten seconds of the open page under a thousand devices' live updates: frames drawn, time
        /// in long tasks, updates taken, the page's JavaScript heap, its first load, the time to
        /// chart one more device, and the dashboard process's resident memory; one JSON document.
        func measure(_ browser: HeadlessChromium, dashboard: LaunchedProcess, to path: String) throws {
            _ = try browser.evaluate("""
                (() => {
                  const start = performance.now(), updatesBefore = liveUpdates;
                  let frames = 0, longTasks = 0, longest = 0, chartMs = null;
                  new PerformanceObserver(list => {
                    for (const task of list.getEntries()) { longTasks += task.duration; longest = Math.max(longest, task.duration); }
                  }).observe({ entryTypes: ["longtask"] });
                  chart("sim-0900").then(() => { chartMs = performance.now() - start; });
                  function frame(now) {
                    frames += 1;
                    if (now - start < 10000) { requestAnimationFrame(frame); return; }
                    const seconds = (now - start) / 1000;
                    window.measured = JSON.stringify({
                      first_load_ms: Number(document.body.dataset.loadedMs), chart_a_device_ms: chartMs,
                      frames_per_s: frames / seconds, long_tasks_ms_per_s: longTasks / seconds, longest_task_ms: longest,
                      live_updates_per_s: (liveUpdates - updatesBefore) / seconds, js_heap_bytes: performance.memory.usedJSHeapSize,
                    });
                  }
                  requestAnimationFrame(frame);
                })()
                """)
            try waitUntil("ten seconds measured", timeout: 60) { (try? browser.evaluate("window.measured ?? ''"))?.string?.isEmpty == false }
            var measured = try JSON(parsing: Array((try browser.evaluate("window.measured").string ?? "").utf8)).object ?? [:]
            let status = try String(contentsOfFile: "/proc/\(dashboard.process.processIdentifier)/status", encoding: .utf8)
            let rss = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }?.split(separator: " ").dropFirst().first
            measured["dashboard_rss_bytes"] = rss.flatMap { Int($0) }.map { JSON($0 * 1024) } ?? .null
            try JSON.object(measured).serialized.write(toFile: path, atomically: true, encoding: .utf8)
        }
    }
}
