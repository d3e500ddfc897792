/// The last value and the percentiles of the most recent measurements of one quantity.
///
/// A fixed window rather than all-time figures, so telemetry shows how the device is doing now
/// (after a thermal throttle, say) and not an average over its whole uptime.
struct LatencyWindow: Sendable {
    static let size = 100
    private var values: [Double] = []
    private var next = 0
    private(set) var last: Double?
    /// Measurements ever recorded, not only those in the window.
    private(set) var count = 0

    mutating func record(_ value: Double) {
        if values.count < Self.size {
            values.append(value)
        } else {
            values[next] = value
        }
        next = (next + 1) % Self.size
        last = value
        count += 1
    }

    /// A copy whose values have storage of their own (`ServingStats.Snapshot.unshared` says why).
    func unshared() -> LatencyWindow {
        var copy = self
        copy.values = values.map { $0 }
        return copy
    }

    /// The nearest-rank percentile (`p` in 0...1) of the window; nil before the first measurement.
    func percentile(_ p: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let rank = Int((p * Double(sorted.count)).rounded(.up))
        return sorted[max(0, min(sorted.count - 1, rank - 1))]
    }
}
