import NIOConcurrencyHelpers
import Prometheus

/// The fleet's metrics in a swift-prometheus registry, which renders them in the Prometheus text
/// exposition format for `elutq exporter`'s `/metrics`.
public final class FleetMetricsRegistry: Sendable {
    /// One device's series in the registry, so they can be dropped when its labels change.
    struct DeviceSeries {
        var labels: [String: String]
        var gauges: [String: Gauge] = [:]
        /// Each counter with the device's total it was last set to.
        var counters: [String: (counter: Counter, total: Int64)] = [:]
    }

    public let registry = PrometheusCollectorRegistry()
    private let devices = NIOLockedValueBox<[String: DeviceSeries]>([:])

    public init() {}

    /// Sets the device's series to its record's metrics. A device whose group or model changed
    /// loses its old series first: they would otherwise be reported forever at their last value.
    public func update(_ record: DeviceRecord) {
        let samples = FleetMetrics.samples(of: record)
        guard let labels = samples.first?.labels else { return }
        devices.withLockedValue { devices in
            var series = devices[record.device] ?? DeviceSeries(labels: labels)
            if series.labels != labels {
                unregister(series)
                series = DeviceSeries(labels: labels)
            }
            for sample in samples {
                let key = sample.orderedLabels.map { "\($0.0)=\($0.1)" }.joined(separator: ",") + " " + sample.name
                switch sample.kind {
                case .gauge:
                    let gauge = series.gauges[key] ?? registry.makeGauge(descriptor: sample.descriptor, labels: sample.orderedLabels)
                    gauge.set(sample.value)
                    series.gauges[key] = gauge
                case .counter:
                    let total = Int64(sample.value)
                    var entry = series.counters[key]
                        ?? (registry.makeCounter(descriptor: sample.descriptor, labels: sample.orderedLabels), 0)
                    // A total lower than before means the agent restarted: a reset, as Prometheus's rate() expects.
                    if total < entry.total {
                        entry.counter.reset()
                        entry.total = 0
                    }
                    entry.counter.increment(by: total - entry.total)
                    entry.total = total
                    series.counters[key] = entry
                }
            }
            devices[record.device] = series
        }
    }

    /// The registry's metrics in the text exposition format.
    public func exposition() -> String { registry.emitToString() }

    private func unregister(_ series: DeviceSeries) {
        series.gauges.values.forEach(registry.unregisterGauge)
        series.counters.values.forEach { registry.unregisterCounter($0.counter) }
    }
}

extension MetricSample {
    /// The registry's descriptor of this series: the whole OpenTelemetry-derived name (which
    /// already ends in its unit) as the metric name, so no unit is appended.
    var descriptor: MetricNameDescriptor { MetricNameDescriptor(metricName: name, unitName: "", helpText: help) }
}
