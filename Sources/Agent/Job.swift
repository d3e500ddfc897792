import Foundation
import Protocol
import Synchronization

/// A queued or running request, with the flag that stops its generation.
public final class Job: Sendable {
    /// Why a job was asked to stop before its end.
    public enum StopReason: UInt8, Sendable {
        case none, cancelled, shutdown
    }

    public let request: PromptRequest
    public let arrival = Date()
    /// Arrival plus `request_timeout`: time spent waiting in the queue counts too.
    public let deadline: Date
    private let stop = Atomic<UInt8>(StopReason.none.rawValue)

    public init(request: PromptRequest, timeout: Double) {
        self.request = request
        deadline = arrival.addingTimeInterval(timeout)
    }

    /// Asks the generation to stop; it does so before its next token.
    public func cancel(_ reason: StopReason) {
        _ = stop.compareExchange(expected: StopReason.none.rawValue, desired: reason.rawValue, ordering: .relaxed)
    }

    public var stopReason: StopReason { StopReason(rawValue: stop.load(ordering: .relaxed))! }
    public var isPastDeadline: Bool { Date() >= deadline }
    /// Whether the generation must stop before its next token: told to, or past its deadline.
    public var mustStop: Bool { stopReason != .none || isPastDeadline }
    /// Seconds since the request arrived.
    public var age: Double { Date().timeIntervalSince(arrival) }
}
