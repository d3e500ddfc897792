import Agent
import Foundation
import MQTT
import Protocol
import Testing
import TestSupport

/// The parent of every suite that starts agents, whichever test target it is in (AgentTests,
/// ModelPushTests, CommandLineTests extend it). Serialized, so at most one of these tests runs at
/// a time: each generation gets the whole (two-core) machine, and the push tests' timeouts hold.
/// Being declared here, it makes their ids begin `AgentHarness.BrokerTests/`, not with their target.
@Suite(.serialized, .needs(.broker, .realModel)) public struct BrokerTests {}

/// A broker of its own, a client listening to replies and statuses, and the agents a test starts;
/// all stopped when the test ends.
public final class Harness {
    public let broker: MosquittoBroker
    public let client: TestClient
    public private(set) var agents: [Agent] = []
    /// Site brokers bridged to `broker`; they outlive the agents on them, so each agent stops cleanly.
    private var sites: [MosquittoBroker] = []

    /// Test clients' response topics live under `test/replies/`.
    public static let subscriptions = ["elutq/+/reply/#", "elutq/+/status", "test/replies/#"]

    init(persistence: Bool = false, clientSessionExpiry: UInt32 = 0) throws {
        broker = try MosquittoBroker(persistence: persistence)
        client = try TestClient(broker: broker, subscriptions: Self.subscriptions, sessionExpiry: clientSessionExpiry)
    }

    /// Starts an in-process agent on this harness's broker, or on `site`, and waits until the
    /// client sees it online.
    @discardableResult
    public func startAgent(_ device: String, on site: MosquittoBroker? = nil,
                           configure: (inout AgentConfiguration) -> Void = { _ in }) throws -> Agent {
        let agent = try Agent(configuration: try testConfiguration(broker: site ?? broker, device: device, configure: configure),
                              model: try SharedModel.load())
        agents.append(agent)
        try agent.start()
        try client.status(of: device, online: true)
        return agent
    }

    /// A site broker bridged to this harness's broker, which is the central one (`MosquittoBroker(bridgeTo:)`).
    public func bridgedSite() throws -> MosquittoBroker {
        let site = try MosquittoBroker(bridgeTo: broker)
        sites.append(site)
        return site
    }

    /// The flags that point an `elutq` command at this harness's broker.
    public var brokerFlags: [String] { ["--host", "127.0.0.1", "--port", String(broker.port)] }

    /// Another client, for tests that need several.
    public func newClient(subscriptions: [String] = Harness.subscriptions) throws -> TestClient {
        try TestClient(broker: broker, subscriptions: subscriptions)
    }

    func tearDown() {
        for agent in agents.reversed() { agent.stop() }
        for site in sites { site.kill() }
        broker.kill()
    }
}

/// Runs `body` with a fresh harness and tears it down afterwards, whatever happens.
public func withHarness(persistence: Bool = false, clientSessionExpiry: UInt32 = 0, _ body: (Harness) throws -> Void) throws {
    let harness = try Harness(persistence: persistence, clientSessionExpiry: clientSessionExpiry)
    defer { harness.tearDown() }
    try body(harness)
}
