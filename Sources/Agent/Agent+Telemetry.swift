import Foundation
import MQTT
import Protocol
import Runtime
import SystemReadings

extension Agent {
    /// The telemetry document: one flat object of metrics, named after the OpenTelemetry semantic
    /// conventions where one fits (`gen_ai.*`, `process.*`, `system.*`, `hw.*`) and `elutq.*`
    /// otherwise. Units follow OpenTelemetry too: seconds and bytes. Latencies carry the last
    /// value and the p50/p95 of the last 100 requests. firmware-notes/topics.md lists every field.
    func telemetryDocument() -> JSON {
        let memory = ProcessMemory.current()
        let stats = stats.snapshot
        let serving = serving
        var document: [String: JSON] = [
            "device": .string(topics.device),
            "ts": JSON(Date().timeIntervalSince1970),
            "process.uptime": JSON(Reply.rounded(Date().timeIntervalSince(startedAt))),
            "process.memory.usage": JSON(memory.residentBytes),
            "elutq.memory.file_backed": JSON(memory.fileBackedBytes),
            "elutq.memory.anonymous": JSON(memory.anonymousBytes),
            "elutq.model.mapped_size": JSON(serving.identity.mappedBytes),
            "elutq.kv_cache.size": JSON(serving.kvCacheBytes),
            "elutq.queue.depth": JSON(queue.depth),
            "elutq.queue.capacity": JSON(queue.capacity),
            "elutq.queue.running": .bool(queue.running != nil),
            "elutq.requests.served": JSON(stats.served),
            "elutq.requests.failed": JSON(stats.failed),
            "elutq.requests.errors": .object(Dictionary(uniqueKeysWithValues: stats.failures.map { ($0.key.rawValue, JSON($0.value)) })),
            "gen_ai.client.token.usage": ["input": JSON(stats.inputTokens), "output": JSON(stats.outputTokens)],
            "gen_ai.server.time_to_first_token": Self.summary(stats.timeToFirstToken),
            "gen_ai.server.time_per_output_token": Self.summary(stats.timePerOutputToken),
            "gen_ai.server.request.duration": Self.summary(stats.requestDuration),
            "elutq.tokens_per_second": Self.summary(stats.tokensPerSecond),
        ]
        if let available = SystemProbe.availableMemoryBytes() { document["system.linux.memory.available"] = JSON(available) }
        if let load = SystemProbe.loadAverages() {
            document["system.cpu.load_average.1m"] = JSON(load[0])
            document["system.cpu.load_average.5m"] = JSON(load[1])
            document["system.cpu.load_average.15m"] = JSON(load[2])
        }
        if let temperature = SystemProbe.cpuTemperature() { document["hw.temperature"] = JSON(temperature) }
        return .object(document)
    }

    /// `{last, p50, p95, count}`, with nulls before the first measurement.
    static func summary(_ window: LatencyWindow) -> JSON {
        func value(_ number: Double?) -> JSON { number.map { JSON(($0 * 10_000).rounded() / 10_000) } ?? .null }
        return ["last": value(window.last), "p50": value(window.percentile(0.5)), "p95": value(window.percentile(0.95)),
                "count": JSON(window.count)]
    }

    /// Telemetry is retained, so `elutq fleet` sees each device's last report at once, and QoS 0:
    /// a report lost while offline is replaced by the next one.
    func publishTelemetry() {
        client?.publish(MQTTMessage(topic: topics.telemetry, json: telemetryDocument(), qos: 0, retain: true))
    }

    /// The telemetry thread: a report every `telemetry_interval` until `stop()`.
    func publishTelemetryPeriodically() {
        while telemetryWake.wait(timeout: .now() + configuration.telemetryInterval) == .timedOut {
            publishTelemetry()
        }
        telemetryFinished.signal()
    }
}
