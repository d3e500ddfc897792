import FleetMonitor
import MQTT
import Protocol
import Testing

@Suite struct FleetMetricsTests {
    /// The samples named `name`, keyed by their labels other than device, group and model.
    func values(_ samples: [MetricSample], _ name: String) -> [String: Double] {
        Dictionary(uniqueKeysWithValues: samples.filter { $0.name == name }.map { sample in
            (sample.orderedLabels.filter { !["device", "group", "model"].contains($0.0) }.map { "\($0.0)=\($0.1)" }.joined(separator: ","),
             sample.value)
        })
    }

    @Test func telemetryMapsToOpenTelemetryPrometheusNames() throws {
        let state = FleetState(prefix: "elutq")
        state.ingest(status("d1", online: true))
        let record = try #require(state.ingest(telemetry("d1", ts: 100, served: 7, errors: ["timeout": 2])))
        let samples = FleetMetrics.samples(of: record)
        #expect(samples.allSatisfy { $0.labels["device"] == "d1" && $0.labels["group"] == "lab" && $0.labels["model"] == "smollm2" })
        #expect(values(samples, "elutq_device_up") == ["": 1])
        #expect(values(samples, "process_memory_usage_bytes") == ["": 200_000_000])
        #expect(values(samples, "elutq_queue_running") == ["": 1])
        #expect(values(samples, "elutq_telemetry_timestamp_seconds") == ["": 100])
        #expect(values(samples, "gen_ai_server_time_to_first_token_seconds") == ["quantile=0.5": 0.25, "quantile=0.95": 0.5])
        #expect(values(samples, "elutq_tokens_per_second") == ["quantile=0.5": 31.5, "quantile=0.95": 33])
        #expect(values(samples, "elutq_requests_served_total") == ["": 7])
        #expect(values(samples, "elutq_requests_failed_total") == ["code=timeout": 2])
        #expect(values(samples, "gen_ai_client_token_usage_total") == ["gen_ai_token_type=input": 40, "gen_ai_token_type=output": 90])
        #expect(samples.filter { $0.name.hasSuffix("_total") }.allSatisfy { $0.kind == .counter })
        #expect(samples.filter { !$0.name.hasSuffix("_total") }.allSatisfy { $0.kind == .gauge })
        // Absent from this report, so absent from the metrics rather than reported as 0.
        #expect(values(samples, "hw_temperature_celsius").isEmpty)
    }

    @Test func anOfflineDeviceIsDownWithItsLastValues() throws {
        let state = FleetState(prefix: "elutq")
        state.ingest(telemetry("d1", ts: 100, served: 7))
        let record = try #require(state.ingest(status("d1", online: false)))
        let samples = FleetMetrics.samples(of: record)
        #expect(values(samples, "elutq_device_up") == ["": 0])
        #expect(values(samples, "elutq_requests_served_total") == ["": 7])
    }

    @Test func theRegistryRendersTheTextFormat() throws {
        let state = FleetState(prefix: "elutq")
        let metrics = FleetMetricsRegistry()
        metrics.update(try #require(state.ingest(status("d1", online: true))))
        metrics.update(try #require(state.ingest(telemetry("d1", ts: 100, served: 7))))
        let text = metrics.exposition()
        #expect(text.contains("# TYPE elutq_requests_served_total counter"))
        #expect(text.contains(#"elutq_requests_served_total{device="d1",group="lab",model="smollm2"} 7"#))
        #expect(text.contains("# TYPE gen_ai_server_time_to_first_token_seconds gauge"))
        #expect(text.contains(#"gen_ai_server_time_to_first_token_seconds{device="d1",group="lab",model="smollm2",quantile="0.95"} 0.5"#))
        #expect(text.contains(#"elutq_device_up{device="d1",group="lab",model="smollm2"} 1"#))
    }

    @Test func countersFollowTheTotalsAndResetWhenAnAgentRestarts() throws {
        let state = FleetState(prefix: "elutq")
        let metrics = FleetMetricsRegistry()
        state.ingest(status("d1", online: true))
        let series = #"elutq_requests_served_total{device="d1",group="lab",model="smollm2"} "#
        metrics.update(try #require(state.ingest(telemetry("d1", ts: 1, served: 5))))
        metrics.update(try #require(state.ingest(telemetry("d1", ts: 2, served: 8))))
        #expect(metrics.exposition().contains(series + "8\n"))
        metrics.update(try #require(state.ingest(telemetry("d1", ts: 3, served: 2))))
        #expect(metrics.exposition().contains(series + "2\n"))
    }

    @Test func aModelSwapReplacesTheDevicesSeries() throws {
        let state = FleetState(prefix: "elutq")
        let metrics = FleetMetricsRegistry()
        metrics.update(try #require(state.ingest(status("d1", online: true, model: "old"))))
        metrics.update(try #require(state.ingest(telemetry("d1", ts: 1))))
        metrics.update(try #require(state.ingest(status("d1", online: true, model: "new"))))
        let text = metrics.exposition()
        #expect(!text.contains(#"model="old""#))
        #expect(text.contains(#"process_memory_usage_bytes{device="d1",group="lab",model="new"} 200000000.0"#))
    }
}
