import Protocol

/// The figures of one telemetry report that the dashboard charts over time.
public struct TelemetryPoint: Sendable, Equatable {
    /// Unix seconds: the agent's `ts`, so that a report re-delivered after a reconnect is the same point.
    public var time: Double
    public var tokensPerSecond: Double?
    public var timeToFirstTokenP50: Double?
    public var timeToFirstTokenP95: Double?
    public var memoryBytes: Double?
    public var queueDepth: Double?

    public init(time: Double, tokensPerSecond: Double? = nil, timeToFirstTokenP50: Double? = nil, timeToFirstTokenP95: Double? = nil,
                memoryBytes: Double? = nil, queueDepth: Double? = nil) {
        self.time = time
        self.tokensPerSecond = tokensPerSecond
        self.timeToFirstTokenP50 = timeToFirstTokenP50
        self.timeToFirstTokenP95 = timeToFirstTokenP95
        self.memoryBytes = memoryBytes
        self.queueDepth = queueDepth
    }

    /// The point of a telemetry document, timed by its `ts` or, lacking one, by `received`.
    public init(telemetry: JSON, received: Double) {
        self.init(time: telemetry["ts"]?.number ?? received,
                  tokensPerSecond: telemetry["elutq.tokens_per_second"]?["p50"]?.number,
                  timeToFirstTokenP50: telemetry["gen_ai.server.time_to_first_token"]?["p50"]?.number,
                  timeToFirstTokenP95: telemetry["gen_ai.server.time_to_first_token"]?["p95"]?.number,
                  memoryBytes: telemetry["process.memory.usage"]?.number,
                  queueDepth: telemetry["elutq.queue.depth"]?.number)
    }

    /// `{t, tokens_per_second, ttft_p50, ttft_p95, memory, queue}`, nulls where the report had nothing.
    public var document: JSON {
        ["t": JSON(time), "tokens_per_second": Self.json(tokensPerSecond), "ttft_p50": Self.json(timeToFirstTokenP50),
         "ttft_p95": Self.json(timeToFirstTokenP95), "memory": Self.json(memoryBytes), "queue": Self.json(queueDepth)]
    }

    private static func json(_ value: Double?) -> JSON { value.map { JSON($0) } ?? .null }
}
