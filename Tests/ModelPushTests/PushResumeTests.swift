import AgentHarness
import Foundation
import Glibc
import ModelFile
import ModelPush
import MQTT
import Protocol
import Testing
import TestSupport

@testable import Agent

extension BrokerTests {
    /// A push cut off halfway resumes where it stopped: only blocks that were in flight
    /// (unacknowledged) are sent again, and the file arrives identical. A
    /// damaged block or a slow final check does not end the push either.
    @Suite(.needs(.executables)) struct PushResume {
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

        /// No more than the window sent twice (the device acknowledges only blocks on disk), and
        /// every block sent at least once: the push went on, not over.
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

        /// A block that fails its CRC-32C, or does not fit the manifest, is dropped and the transfer
        /// goes on: the device lists it as missing and the sender's next run completes the file.
        @Test func aDamagedBlockIsDroppedAndSentAgain() throws {
            let fixture = try PushFixture.shared.get()
            try withHarness { harness in
                let agent = try harness.startAgent("d1", configure: try pushConfiguration(harness))
                let pusher = try PushClient(broker: harness.broker)
                let signed = try fixture.signedManifest()
                guard case .missing = try pusher.sendManifest(signed.document, device: "d1") else { throw TestFailure("no missing list") }
                let file = try MappedFile(path: fixture.model)
                let tag = BlockMessage.transferTag(sha256: signed.manifest.sha256)
                for index in 0..<4 {
                    var range = signed.manifest.range(ofBlock: index)
                    if index == 3 { range = range.dropLast() }
                    var payload = BlockMessage.encode(transfer: tag, index: index, data: UnsafeRawBufferPointer(rebasing: file.bytes[range]))
                    if index == 2 { payload[BlockMessage.headerSize + 1000] ^= 0x40 }
                    pusher.sendBlock(payload, device: "d1")
                }
                #expect(try pusher.nextEvent() == .ack(sha256: signed.manifest.sha256, index: 0, received: 1))
                #expect(try pusher.nextEvent() == .ack(sha256: signed.manifest.sha256, index: 1, received: 2))
                let answer = try pusher.sendManifest(signed.document, device: "d1")
                #expect(answer == .missing(sha256: signed.manifest.sha256, query: 0, ranges: [2..<signed.manifest.blockCount], received: 2))
                let summary = try pusher.sender(device: "d1").push(file: fixture.model, signed: signed)
                #expect(summary.blocksSent == signed.manifest.blockCount - 2)
                #expect(try FileDigest.sha256(path: agent.configuration.modelStore! + "/smollm2-hlq4.hlq") == fixture.modelSHA256)
            }
        }

        /// The device checks the finished file for longer than the sender's stall timeout, and longer
        /// in all than its give-up time: on `verifying` the sender stops asking and waits, as long as
        /// the device keeps saying it is verifying. A stand-in device answers, so the check's length
        /// is the test's to choose.
        @Test func aSlowVerificationIsWaitedFor() throws {
            let fixture = try PushFixture.shared.get()
            try withHarness { harness in
                let file = try fixture.randomFile("slow.bin", count: 300_000)
                let manifest = try PushManifest(file: file)
                let signed = try SignedManifest.sign(manifest, with: try SigningKeys.privateKey(at: fixture.trustedKey))
                let topics = Topics(prefix: "elutq", device: "slow")
                let (manifestTopic, blockTopic) = (topics.pushManifest, topics.pushBlock)
                let inbox = MessageInbox()
                let device = try connectedClient(broker: harness.broker, subscriptions: [manifestTopic, blockTopic], inbox: inbox)
                defer { device.stop() }
                DispatchQueue.global().async {
                    var route = ""
                    var received: Set<Int> = []
                    func answer(_ event: PushEvent) {
                        let document = JSON.object((event.document.object ?? [:]).merging(["device": "slow"]) { $1 })
                        device.publish(MQTTMessage(topic: route, json: document, qos: 1))
                    }
                    while let message = inbox.next(timeout: 30) {
                        if message.topic == manifestTopic {
                            route = message.responseTopic ?? ""
                            let query = Int((try? JSON(parsing: message.payload))?["query"]?.int ?? 0)
                            answer(.missing(sha256: manifest.sha256, query: query, ranges: [0..<manifest.blockCount], received: 0))
                        } else if let block = try? BlockMessage(payload: message.payload) {
                            received.insert(block.index)
                            answer(.ack(sha256: manifest.sha256, index: block.index, received: received.count))
                            guard received.count == manifest.blockCount else { continue }
                            for _ in 0..<3 {
                                answer(.verifying(sha256: manifest.sha256))
                                sleep(2)
                            }
                            return answer(.installed(sha256: manifest.sha256, name: manifest.name))
                        }
                    }
                }
                var options = PushSender.Options()
                // Gaps between `verifying` events (2 s) exceed the stall timeout and the whole check
                // (6 s) the give-up time; the stall timeout stays well above the delivery delays of
                // a loaded machine, so blocks are never taken for stalled.
                options.stallTimeout = 1.5
                options.giveUpAfter = 4
                let pusher = try PushClient(broker: harness.broker)
                let summary = try pusher.sender(device: "slow", options: options).push(file: file, signed: signed)
                #expect(summary.queries == 1, "asked \(summary.queries) times")
                #expect(summary.blocksResent == 0)
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
                // More than half the blocks, so more than half the bytes even if the short last block is among them.
                try waitUntil("more than half the blocks are in") {
                    let bytes = (try? Data(contentsOf: URL(fileURLWithPath: bitmap))).map(Array.init) ?? []
                    return BlockBitmap(count: blockCount, bytes: bytes).map { $0.received * 2 > blockCount } ?? false
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
