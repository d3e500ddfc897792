import Foundation
import Glibc
import ModelFile
import ModelPush
import MQTT
import Testing
import TestSupport

@testable import Agent

extension BrokerTests {
    /// A push cut off halfway resumes where it stopped: only blocks that were in flight are sent
    /// again, and the file arrives identical.
    @Suite struct PushResume {
        static let window = 8

        /// Pushes the fixture model, calling `cut` once when about half of it is acknowledged.
        func pushWithACut(_ pusher: PushClient, cut: () throws -> Void) throws -> PushSender.Summary {
            let fixture = try PushFixture.shared.get()
            var options = PushSender.Options()
            options.window = Self.window
            options.stallTimeout = 2
            var didCut = false
            var cutError: Error?
            let summary = try pusher.sender(device: "d1", options: options).push(file: fixture.model, signed: try fixture.signedManifest()) { done, total in
                guard !didCut, done >= total / 2 else { return }
                didCut = true
                do { try cut() } catch { cutError = error }
            }
            if let cutError { throw cutError }
            #expect(didCut)
            return summary
        }

        /// No more than the window sent twice, and every block sent at least once: the push went on, not over.
        func expectResumed(_ summary: PushSender.Summary, blockCount: Int) {
            #expect(summary.blocksResent <= Self.window, "re-sent \(summary.blocksResent) blocks, window \(Self.window)")
            #expect(summary.blocksSent == blockCount + summary.blocksResent)
        }

        /// The broker is killed and restarted: both clients reconnect, and the push goes on (the
        /// sender asks again only if its acks stall, so this may need no second manifest at all).
        @Test func aBrokerRestartMidPush() throws {
            let fixture = try PushFixture.shared.get()
            try withHarness { harness in
                let agent = try harness.startAgent("d1", configure: try pushConfiguration(harness))
                let pusher = try PushClient(broker: harness.broker)
                let summary = try pushWithACut(pusher) {
                    harness.broker.kill()
                    usleep(300_000)
                    try harness.broker.start()
                }
                expectResumed(summary, blockCount: try fixture.signedManifest().manifest.blockCount)
                let stored = agent.configuration.modelStore! + "/smollm2-hlq4.hlq"
                #expect(try Data(contentsOf: URL(fileURLWithPath: stored)) == Data(contentsOf: URL(fileURLWithPath: fixture.model)))
            }
        }

        /// `elutq push` itself is killed halfway; run again, it sends only what the device lacks.
        @Test func aKilledPushRunAgainResumes() throws {
            let fixture = try PushFixture.shared.get()
            try withHarness { harness in
                let agent = try harness.startAgent("d1", configure: try pushConfiguration(harness))
                let arguments = ["push", "--device", "d1", fixture.model, "--key", fixture.trustedKey, "--window", String(Self.window),
                                 "--host", "127.0.0.1", "--port", String(harness.broker.port)]
                let manifest = try fixture.signedManifest().manifest
                let blockCount = manifest.blockCount
                let bitmap = agent.configuration.modelStore! + "/.incoming/\(fixture.modelSHA256).bitmap"
                let first = try launch("elutq", arguments)
                try waitUntil("half the blocks are in") {
                    let bytes = (try? Data(contentsOf: URL(fileURLWithPath: bitmap))).map(Array.init) ?? []
                    return BlockBitmap(count: blockCount, bytes: bytes).map { $0.received >= blockCount / 2 } ?? false
                }
                kill(first.process.processIdentifier, SIGKILL)
                first.process.waitUntilExit()
                let second = try run("elutq", arguments + ["--json"])
                #expect(second.status == 0, "\(second.stderr)")
                let summary = try JSON(parsing: Array(second.stdout.utf8))
                let present = Int(summary["already_present"]?.int ?? 0)
                #expect(present >= manifest.size / 2)
                let sent = Int(summary["blocks_sent"]?.int ?? -1)
                #expect(sent > 0 && sent <= blockCount - present / manifest.blockSize, "sent \(sent) of \(blockCount)")
                let stored = agent.configuration.modelStore! + "/smollm2-hlq4.hlq"
                #expect(try FileDigest.sha256(path: stored) == fixture.modelSHA256)
            }
        }

        /// The agent process is killed (SIGKILL) mid-push and started again: it finds its bitmap on disk.
        @Test func anAgentKillMidPush() throws {
            let fixture = try PushFixture.shared.get()
            try withHarness { harness in
                let store = harness.broker.directory.appendingPathComponent("store").path
                let arguments = ["--broker-host", "127.0.0.1", "--broker-port", String(harness.broker.port), "--device-id", "d1",
                                 "--model", fixture.model, "--model-store", store, "--trusted-keys", fixture.trustedPublicKey,
                                 "--context-size", "256", "--threads", "1", "--log-level", "warn"]
                var agent = try launch("elutq-agent", arguments)
                defer { kill(agent.process.processIdentifier, SIGKILL) }
                try harness.client.status(of: "d1", online: true)
                let pusher = try PushClient(broker: harness.broker)
                let summary = try pushWithACut(pusher) {
                    kill(agent.process.processIdentifier, SIGKILL)
                    agent.process.waitUntilExit()
                    agent = try launch("elutq-agent", arguments)
                }
                expectResumed(summary, blockCount: try fixture.signedManifest().manifest.blockCount)
                #expect(summary.queries >= 2, "the new agent process was asked for its missing blocks")
                let contents = storeContents(store)
                #expect(contents.models == ["smollm2-hlq4.hlq"])
                #expect(contents.incoming.isEmpty)
                #expect(try FileDigest.sha256(path: store + "/smollm2-hlq4.hlq") == fixture.modelSHA256)
                kill(agent.process.processIdentifier, SIGTERM)
                #expect(try agent.waitForExit() == 0, "\(agent.stderr())")
            }
        }
    }
}
