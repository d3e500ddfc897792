import FleetMonitor
import MQTT
import Protocol
import Testing

/// A status document as the agent publishes it, reduced to what the monitor reads.
func status(_ device: String, online: Bool, group: String? = "lab", model: String = "smollm2") -> MQTTMessage {
    MQTTMessage(topic: "elutq/\(device)/status",
                json: ["device": .string(device), "online": .bool(online), "group": JSON(group), "model": ["name": .string(model)]])
}

/// A telemetry document with the fields the monitor charts and counts.
func telemetry(_ device: String, ts: Double, served: Int = 3, memory: Int = 200_000_000, errors: [String: JSON] = [:]) -> MQTTMessage {
    MQTTMessage(topic: "elutq/\(device)/telemetry", json: [
        "device": .string(device), "ts": JSON(ts), "process.memory.usage": JSON(memory), "elutq.queue.depth": 1,
        "elutq.queue.running": true, "elutq.requests.served": JSON(served), "elutq.requests.failed": 1,
        "elutq.requests.errors": .object(errors), "gen_ai.client.token.usage": ["input": 40, "output": 90],
        "gen_ai.server.time_to_first_token": ["last": 0.2, "p50": 0.25, "p95": 0.5, "count": 3],
        "elutq.tokens_per_second": ["last": 30.0, "p50": 31.5, "p95": 33.0, "count": 3],
    ])
}

@Suite struct FleetStateTests {
    @Test func filesStatusAndTelemetryByDevice() throws {
        let state = FleetState(prefix: "elutq")
        state.ingest(status("d1", online: true))
        state.ingest(telemetry("d1", ts: 100))
        state.ingest(telemetry("d2", ts: 100))
        #expect(state.ingest(MQTTMessage(topic: "elutq/d1/reply/x", json: [:])) == nil)
        #expect(state.ingest(MQTTMessage(topic: "other/d1/status", json: [:])) == nil)
        #expect(state.ingest(MQTTMessage(topic: "elutq/d1/status", payload: Array("not json".utf8))) == nil)
        let devices = state.devices
        #expect(devices.map(\.device) == ["d1", "d2"])
        #expect(devices[0].online == true && devices[0].group == "lab" && devices[0].model == "smollm2")
        #expect(devices[1].online == nil)
        let point = try #require(devices[0].history.last)
        #expect(point == TelemetryPoint(time: 100, tokensPerSecond: 31.5, timeToFirstTokenP50: 0.25, timeToFirstTokenP95: 0.5,
                                        memoryBytes: 200_000_000, queueDepth: 1))
    }

    @Test func historyIsBoundedByCountAndAge() {
        let state = FleetState(prefix: "elutq", historyCapacity: 5, window: 100)
        for second in 0..<20 { state.ingest(telemetry("d1", ts: Double(second))) }
        #expect(state.devices[0].history.elements.map(\.time) == [15, 16, 17, 18, 19])
        state.ingest(telemetry("d1", ts: 117))
        #expect(state.devices[0].history.elements.map(\.time) == [17, 18, 19, 117])
    }

    @Test func aRedeliveredReportIsNotASecondPoint() {
        let state = FleetState(prefix: "elutq")
        state.ingest(telemetry("d1", ts: 5))
        state.ingest(telemetry("d1", ts: 5))
        #expect(state.devices[0].history.count == 1)
    }

    @Test func anOfflineDeviceKeepsItsLastTelemetry() {
        let state = FleetState(prefix: "elutq")
        state.ingest(status("d1", online: true))
        state.ingest(telemetry("d1", ts: 5, served: 9))
        let record = state.ingest(status("d1", online: false))
        #expect(record?.online == false)
        #expect(record?.summary["served"] == 9)
        #expect(record?.summary["point"]?["ttft_p95"] == 0.5)
    }

    @Test func aPrefixOfSeveralLevelsIsRead() {
        let state = FleetState(prefix: "site/elutq")
        #expect(state.ingest(MQTTMessage(topic: "site/elutq/d1/status", json: ["online": true]))?.online == true)
    }
}
