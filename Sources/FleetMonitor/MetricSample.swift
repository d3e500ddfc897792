/// One Prometheus series and its value, as the monitor maps a device's record: the pure half of
/// the exporter, which the tests read without an HTTP server or a registry.
public struct MetricSample: Sendable, Equatable {
    /// Gauges go up and down; counters only go up (a device's restart is their reset).
    public enum Kind: Sendable, Equatable { case gauge, counter }

    public var name: String
    public var help: String
    public var kind: Kind
    public var labels: [String: String]
    public var value: Double

    public init(name: String, help: String, kind: Kind, labels: [String: String], value: Double) {
        self.name = name
        self.help = help
        self.kind = kind
        self.labels = labels
        self.value = value
    }

    /// The labels in name order, as the registry takes them: the same set always makes the same series.
    public var orderedLabels: [(String, String)] { labels.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
}
