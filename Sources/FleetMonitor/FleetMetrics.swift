import Protocol

/// The Prometheus metrics of a device record, named by the OpenTelemetry-to-Prometheus rules
/// (dots become underscores, the unit becomes a suffix: `_seconds`, `_bytes`, and `_total` on
/// counters) from the OpenTelemetry names the agent's telemetry uses (firmware-notes/topics.md).
public enum FleetMetrics {
    /// A telemetry field that is one number (a boolean counts as 0 or 1), shown as a gauge.
    struct Field {
        let key: String
        let name: String
        let help: String
    }

    static let gauges = [
        Field(key: "process.uptime", name: "process_uptime_seconds", help: "Seconds since the agent started."),
        Field(key: "process.memory.usage", name: "process_memory_usage_bytes", help: "The agent's resident memory."),
        Field(key: "elutq.memory.file_backed", name: "elutq_memory_file_backed_bytes", help: "Resident memory backed by files (the mapped model)."),
        Field(key: "elutq.memory.anonymous", name: "elutq_memory_anonymous_bytes", help: "Resident anonymous memory (KV cache, buffers)."),
        Field(key: "elutq.model.mapped_size", name: "elutq_model_mapped_size_bytes", help: "Size of the served model's mapping."),
        Field(key: "elutq.kv_cache.size", name: "elutq_kv_cache_size_bytes", help: "Size of the KV cache."),
        Field(key: "elutq.queue.depth", name: "elutq_queue_depth", help: "Requests waiting in the queue."),
        Field(key: "elutq.queue.capacity", name: "elutq_queue_capacity", help: "Requests the queue can hold."),
        Field(key: "elutq.queue.running", name: "elutq_queue_running", help: "1 while a request is being served."),
        Field(key: "system.linux.memory.available", name: "system_linux_memory_available_bytes", help: "Memory available on the device."),
        Field(key: "system.cpu.load_average.1m", name: "system_cpu_load_average_1m", help: "The device's 1-minute load average."),
        Field(key: "system.cpu.load_average.5m", name: "system_cpu_load_average_5m", help: "The device's 5-minute load average."),
        Field(key: "system.cpu.load_average.15m", name: "system_cpu_load_average_15m", help: "The device's 15-minute load average."),
        Field(key: "hw.temperature", name: "hw_temperature_celsius", help: "The device's CPU temperature."),
        Field(key: "ts", name: "elutq_telemetry_timestamp_seconds", help: "Unix time of the device's last telemetry report."),
    ]

    /// Telemetry fields that are `{last, p50, p95, count}` over the agent's last 100 requests, shown
    /// as gauges with a `quantile` label, as a Prometheus summary shows its quantiles.
    static let summaries = [
        Field(key: "gen_ai.server.time_to_first_token", name: "gen_ai_server_time_to_first_token_seconds",
              help: "Time to the first token over the device's last 100 requests."),
        Field(key: "gen_ai.server.time_per_output_token", name: "gen_ai_server_time_per_output_token_seconds",
              help: "Time per output token over the device's last 100 requests."),
        Field(key: "gen_ai.server.request.duration", name: "gen_ai_server_request_duration_seconds",
              help: "Request duration over the device's last 100 requests."),
        Field(key: "elutq.tokens_per_second", name: "elutq_tokens_per_second", help: "Generation speed over the device's last 100 requests."),
    ]
    static let quantiles = [("p50", "0.5"), ("p95", "0.95")]

    /// The device's metrics: whether it is online, then whatever its last telemetry held, which an
    /// offline device keeps, so its last figures stay visible beside `elutq_device_up 0`.
    public static func samples(of record: DeviceRecord) -> [MetricSample] {
        let labels = ["device": record.device, "group": record.group ?? "", "model": record.model ?? ""]
        func sample(_ name: String, _ help: String, _ value: Double, kind: MetricSample.Kind = .gauge,
                    extra: [String: String] = [:]) -> MetricSample {
            MetricSample(name: name, help: help, kind: kind, labels: labels.merging(extra) { $1 }, value: value)
        }
        var samples = [sample("elutq_device_up", "1 while the device's status says online; 0 once it went offline.",
                              record.online == true ? 1 : 0)]
        guard let telemetry = record.telemetry else { return samples }
        for field in gauges {
            guard let value = number(telemetry[field.key]) else { continue }
            samples.append(sample(field.name, field.help, value))
        }
        for field in summaries {
            for (key, quantile) in quantiles {
                guard let value = telemetry[field.key]?[key]?.number else { continue }
                samples.append(sample(field.name, field.help, value, extra: ["quantile": quantile]))
            }
        }
        if let served = telemetry["elutq.requests.served"]?.number {
            samples.append(sample("elutq_requests_served_total", "Requests the device has served since it started.", served, kind: .counter))
        }
        for (code, count) in (telemetry["elutq.requests.errors"]?.object ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let count = count.number else { continue }
            samples.append(sample("elutq_requests_failed_total", "Requests the device has failed since it started, by error code.",
                                  count, kind: .counter, extra: ["code": code]))
        }
        for type in ["input", "output"] {
            guard let tokens = telemetry["gen_ai.client.token.usage"]?[type]?.number else { continue }
            samples.append(sample("gen_ai_client_token_usage_total", "Tokens the device has read and written since it started.",
                                  tokens, kind: .counter, extra: ["gen_ai_token_type": type]))
        }
        return samples
    }

    private static func number(_ value: JSON?) -> Double? {
        if let flag = value?.bool { return flag ? 1 : 0 }
        return value?.number
    }
}
