import AgentHarness
import Foundation
import Glibc
import MQTT
import Protocol
import Testing
import TestSupport

extension BrokerTests {
    /// Two agents configured with one device id: the broker lets one client hold the id at a time,
    /// so each connection knocks the other off. The older agent sees the newer one's status,
    /// says so and stops with an error; the newer one logs that another agent used its id, and
    /// the retained status settles on the newer agent, online, without flapping.
    @Suite struct DuplicateDeviceID {
        @Test(.needs(.executables)) func theOlderAgentStopsAndTheStatusSettlesOnTheNewer() throws {
            try withHarness { harness in
                let arguments = [
                    "--broker-host", "127.0.0.1", "--broker-port", String(harness.broker.port), "--device-id", "twin",
                    "--model", try realModelPath(), "--threads", "1", "--context-size", "256", "--log-level", "info",
                ]
                let older = try launch("elutq-agent", arguments)
                defer { kill(older.process.processIdentifier, SIGKILL) }
                try harness.client.status(of: "twin", online: true)
                let newer = try launch("elutq-agent", arguments)
                defer { kill(newer.process.processIdentifier, SIGKILL) }

                #expect(try older.waitForExit() == 3, "\(older.stderr())")
                #expect(older.stderr().contains("a newer agent is online with this device_id; stopping"), "\(older.stderr())")
                #expect(older.stderr().contains("Give each device its own device_id"))
                try waitUntil("the newer agent logs the older one") {
                    newer.stderr().contains("another agent announced itself with this device_id")
                }
                #expect(newer.process.isRunning)

                // The retained status: the newer agent's, online, and still so a few seconds later
                // (the newer agent reconnects within a second of the older one's last knock).
                usleep(2_000_000)
                let settled = try retainedStatus(harness.broker)
                #expect(settled?["online"]?.bool == true)
                let instance = try #require(settled?["instance"]?.string)
                // The newer agent logs its own instance (as ` instance=`; the older one's as ` other_instance=`).
                #expect(newer.stderr().contains(" instance=\(instance)"), "\(newer.stderr())")
                let statuses = MessageInbox()
                let watcher = try connectedClient(broker: harness.broker, subscriptions: ["elutq/twin/status"], inbox: statuses)
                defer { watcher.stop() }
                var seen = 0
                let deadline = Date().addingTimeInterval(4)
                while let message = statuses.next(timeout: deadline.timeIntervalSinceNow) {
                    seen += 1
                    #expect((try? JSON(parsing: message.payload))?["instance"]?.string == instance)
                }
                #expect(seen == 1, "the status changed \(seen - 1) times after it settled")
                #expect(try retainedStatus(harness.broker)?["online"]?.bool == true)
                // The newer agent answers prompts.
                harness.client.publish("elutq/twin/prompt", promptRequest("after", "Hi!", maxTokens: 4))
                #expect(try harness.client.reply("after").final != nil)
            }
        }

        /// An earlier run's offline status that looks newer (a board whose clock started in the
        /// past after a reboot) is no rival on the first connection; an online one is.
        @Test func onlyAnOnlineRivalStopsTheAgent() throws {
            try withHarness { harness in
                let agent = try harness.startAgent("d1")
                let future = Date().timeIntervalSince1970 + 86_400
                harness.client.publish("elutq/d1/status", ["device": "d1", "online": false, "instance": "earlier", "started_at": JSON(future)])
                // The agent announces itself again in answer; then it must still be running.
                try harness.client.status(of: "d1", online: true, fresh: true)
                #expect(agent.exitRequest.current == nil)
                harness.client.publish("elutq/d1/status", ["device": "d1", "online": true, "instance": "rival", "started_at": JSON(future)])
                try waitUntil("the agent gives way to the newer rival") { agent.exitRequest.current != nil }
                #expect(agent.exitRequest.current?.status == 3)
            }
        }

        /// The retained status of `twin`, read by a fresh client.
        func retainedStatus(_ broker: MosquittoBroker) throws -> JSON? {
            let inbox = MessageInbox()
            let client = try connectedClient(broker: broker, subscriptions: ["elutq/twin/status"], inbox: inbox)
            defer { client.stop() }
            return inbox.next(timeout: 10).flatMap { try? JSON(parsing: $0.payload) }
        }
    }
}
