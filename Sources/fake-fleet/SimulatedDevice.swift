import Foundation
import Protocol

/// One pretend agent: a status like the agent's and telemetry whose figures wander the way a
/// busy device's do, so that the exporter and the dashboard have a fleet to show without models.
struct SimulatedDevice {
    let device: String
    let group: String
    let startedAt = Date()
    var served = 0
    var failed = 0
    var inputTokens = 0
    var outputTokens = 0
    var memory: Double
    var timeToFirstToken: Double
    var tokensPerSecond: Double

    init(index: Int) {
        device = String(format: "sim-%04d", index)
        group = "site-\(index % 10)"
        memory = 60e6 + Double(index % 7) * 5e6
        timeToFirstToken = 0.1 + Double(index % 5) * 0.05
        tokensPerSecond = 40 + Double(index % 9)
    }

    /// The retained status document, with the fields the agent's has that monitors read.
    func status(online: Bool) -> JSON {
        ["device": .string(device), "online": .bool(online), "agent_version": "fake-fleet", "group": .string(group),
         "model": ["name": "simulated", "format": "hlq", "mapped_bytes": 92_000_000], "started_at": JSON(startedAt.timeIntervalSince1970)]
    }

    /// The next telemetry report: a few requests served since the last one, figures moved a little.
    mutating func telemetry() -> JSON {
        let requests = Int.random(in: 0...3)
        served += requests
        if Int.random(in: 0..<50) == 0 { failed += 1 }
        inputTokens += requests * 40
        outputTokens += requests * 64
        memory = min(max(memory + Double.random(in: -1e6...1e6), 40e6), 200e6)
        timeToFirstToken = min(max(timeToFirstToken * Double.random(in: 0.9...1.1), 0.05), 2)
        tokensPerSecond = min(max(tokensPerSecond * Double.random(in: 0.95...1.05), 5), 100)
        let window = JSON(min(served, 100))
        let latency: (Double) -> JSON = { ["last": JSON($0), "p50": JSON($0), "p95": JSON($0 * 1.6), "count": window] }
        return [
            "device": .string(device), "ts": JSON(Date().timeIntervalSince1970),
            "process.uptime": JSON(Date().timeIntervalSince(startedAt)), "process.memory.usage": JSON(memory.rounded()),
            "elutq.queue.depth": JSON(Int.random(in: 0...2)), "elutq.queue.capacity": 4, "elutq.queue.running": .bool(requests > 0),
            "elutq.requests.served": JSON(served), "elutq.requests.failed": JSON(failed),
            "elutq.requests.errors": failed > 0 ? ["timeout": JSON(failed)] : [:],
            "gen_ai.client.token.usage": ["input": JSON(inputTokens), "output": JSON(outputTokens)],
            "gen_ai.server.time_to_first_token": latency(timeToFirstToken),
            "gen_ai.server.time_per_output_token": latency(1 / tokensPerSecond),
            "gen_ai.server.request.duration": latency(timeToFirstToken + 64 / tokensPerSecond),
            "elutq.tokens_per_second": latency(tokensPerSecond),
        ]
    }
}
