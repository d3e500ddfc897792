import Foundation

/// Readings of the machine around the agent, from /proc and /sys.
enum SystemProbe {
    /// MemAvailable: what can be allocated without swapping, page cache included.
    static func availableMemoryBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }.map { $0 * 1024 }
        }
        return nil
    }

    /// The 1, 5 and 15 minute load averages.
    static func loadAverages() -> [Double]? {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return nil }
        let values = text.split(separator: " ").prefix(3).compactMap { Double($0) }
        return values.count == 3 ? values : nil
    }

    /// The CPU's temperature in °C, from the first thermal zone that names the CPU or SoC
    /// (`cpu-thermal` on a Raspberry Pi, `x86_pkg_temp` on Intel), else the first zone;
    /// nil where there is none, as in most VMs.
    static func cpuTemperature() -> Double? {
        let root = "/sys/class/thermal"
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: root) else { return nil }
        let zones = entries.filter { $0.hasPrefix("thermal_zone") }.sorted()
        func read(_ zone: String, _ file: String) -> String? {
            (try? String(contentsOfFile: "\(root)/\(zone)/\(file)", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let cpuZone = zones.first { zone in
            let type = read(zone, "type")?.lowercased() ?? ""
            return ["cpu", "soc", "x86_pkg", "k10temp", "coretemp"].contains { type.contains($0) }
        }
        guard let zone = cpuZone ?? zones.first, let millidegrees = read(zone, "temp").flatMap({ Double($0) }) else { return nil }
        return millidegrees / 1000
    }
}
