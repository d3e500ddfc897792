import Foundation

/// This process's memory, split the way an edge device's budget is: pages backed by files
/// (the mapped model, shared and reclaimable) and anonymous pages (KV cache, buffers, heap).
public struct ProcessMemory: Codable, Sendable {
    /// Resident set, bytes.
    public var residentBytes: Int
    /// Resident pages backed by files (RssFile), bytes.
    public var fileBackedBytes: Int
    /// Resident anonymous pages (RssAnon), bytes.
    public var anonymousBytes: Int
    /// Peak resident set (VmHWM), bytes.
    public var peakResidentBytes: Int

    /// Reads /proc/self/status; zeros where the kernel does not report a field.
    public static func current() -> ProcessMemory {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        var fields: [String: Int] = [:]
        for line in status.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let value = parts[1].split(whereSeparator: { $0 == " " || $0 == "\t" }).first.flatMap { Int($0) } ?? 0
            fields[String(parts[0])] = value * 1024  // reported in kB
        }
        return ProcessMemory(residentBytes: fields["VmRSS"] ?? 0, fileBackedBytes: fields["RssFile"] ?? 0,
                             anonymousBytes: fields["RssAnon"] ?? 0, peakResidentBytes: fields["VmHWM"] ?? 0)
    }
}
