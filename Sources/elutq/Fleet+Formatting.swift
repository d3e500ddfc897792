import Foundation
import Protocol

/// Telemetry and status figures as people read them, for `elutq fleet` and `elutq watch`.
/// A figure the document lacks (an old agent, a VM without a thermal zone) shows as "-".
enum TelemetryText {
    static func bytes(_ value: JSON?) -> String {
        guard let value = value?.number else { return "-" }
        return value >= 1e9 ? String(format: "%.1f GB", value / 1e9) : String(format: "%.0f MB", value / 1e6)
    }

    static func milliseconds(_ seconds: JSON?) -> String {
        guard let seconds = seconds?.number else { return "-" }
        return "\(Int((seconds * 1000).rounded())) ms"
    }

    static func decimal(_ value: JSON?, places: Int = 1) -> String {
        guard let value = value?.number else { return "-" }
        return String(format: "%.\(places)f", value)
    }

    /// How long ago a `ts` (Unix seconds) was, e.g. "4 s ago".
    static func age(_ timestamp: JSON?) -> String {
        guard let timestamp = timestamp?.number else { return "-" }
        let seconds = max(0, Date().timeIntervalSince1970 - timestamp)
        return seconds < 120 ? "\(Int(seconds)) s ago" : seconds < 7200 ? "\(Int(seconds / 60)) min ago" : "\(Int(seconds / 3600)) h ago"
    }

    /// One `elutq watch` line for a telemetry document.
    static func line(_ telemetry: JSON) -> String {
        let time = telemetry["ts"]?.number.map { Date(timeIntervalSince1970: $0) } ?? Date()
        let parts = Calendar.current.dateComponents([.hour, .minute, .second], from: time)
        let clock = String(format: "%02d:%02d:%02d", parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0)
        let ttft = telemetry["gen_ai.server.time_to_first_token"]
        let speed = telemetry["elutq.tokens_per_second"]
        let temperature = telemetry["hw.temperature"].map { decimal($0) + " °C" } ?? "-"
        return [
            clock,
            "rss \(bytes(telemetry["process.memory.usage"])) (file \(bytes(telemetry["elutq.memory.file_backed"])), anon \(bytes(telemetry["elutq.memory.anonymous"])))",
            "avail \(bytes(telemetry["system.linux.memory.available"]))",
            "load \(decimal(telemetry["system.cpu.load_average.1m"], places: 2))",
            "temp \(temperature)",
            "queue \(decimal(telemetry["elutq.queue.depth"], places: 0))/\(decimal(telemetry["elutq.queue.capacity"], places: 0))",
            "served \(decimal(telemetry["elutq.requests.served"], places: 0)) failed \(decimal(telemetry["elutq.requests.failed"], places: 0))",
            "ttft \(milliseconds(ttft?["last"])) (p50 \(milliseconds(ttft?["p50"])), p95 \(milliseconds(ttft?["p95"])))",
            "\(decimal(speed?["last"])) tok/s (p50 \(decimal(speed?["p50"])))",
        ].joined(separator: "  ")
    }
}
