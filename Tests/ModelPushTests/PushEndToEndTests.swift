import AgentHarness
import Foundation
import ModelFile
import ModelPush
import MQTT
import Protocol
import Testing
import TestSupport

@testable import Agent

extension BrokerTests {
    /// `elutq push`, `models`, `use` and `rm` against an in-process agent, with the real SmolLM2
    /// quantized to a `.hlq`.
    @Suite(.needs(.executables)) struct PushEndToEnd {
        @Test func keygenWritesAKeyOnlyItsOwnerCanReadAndNeverOverwritesIt() throws {
            try withTemporaryDirectory { directory in
                let key = directory.appendingPathComponent("release.key").path
                let made = try run("elutq", ["keygen", "-o", key])
                #expect(made.status == 0, "\(made.stderr)")
                #expect(try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int == 0o600)
                #expect(FileManager.default.fileExists(atPath: key + ".pub"))
                let before = try Data(contentsOf: URL(fileURLWithPath: key))
                let again = try run("elutq", ["keygen", "-o", key])
                #expect(again.status != 0 && again.stderr.contains("File exists"), "\(again.stderr)")
                #expect(try Data(contentsOf: URL(fileURLWithPath: key)) == before)
            }
        }

        /// The pushed file is bit-identical, the status and the next reply name the new model.
        @Test func aPushArrivesBitIdenticalAndTheNextPromptUsesIt() throws {
            let fixture = try PushFixture.shared.get()
            try withHarness { harness in
                let agent = try harness.startAgent("d1", configure: try pushConfiguration(harness))
                let oldSHA = agent.identity.sha256
                // Signed on one machine (elutq sign), pushed from another (the .sig file only).
                let signature = harness.broker.directory.appendingPathComponent("model.sig").path
                let signed = try run("elutq", ["sign", fixture.model, "--key", fixture.trustedKey, "--name", "pushed", "-o", signature])
                #expect(signed.status == 0, "\(signed.stderr)")
                let push = try run("elutq", ["push", "--device", "d1", fixture.model, "--signature", signature, "--json"]
                                   + harness.brokerFlags)
                #expect(push.status == 0, "\(push.stderr)")
                let summary = try JSON(parsing: Array(push.stdout.utf8))
                #expect(summary["ok"]?.bool == true)
                #expect(summary["blocks_resent"]?.int == 0)
                #expect(agent.identity.sha256 == oldSHA, "a push without --activate changes nothing served")
                let use = try run("elutq", ["use", "--device", "d1", "pushed", "--key", fixture.trustedKey] + harness.brokerFlags)
                #expect(use.status == 0, "\(use.stderr)")

                let stored = URL(fileURLWithPath: agent.configuration.modelStore! + "/pushed.hlq")
                #expect(try Data(contentsOf: stored) == Data(contentsOf: URL(fileURLWithPath: fixture.model)))
                #expect(storeContents(agent.configuration.modelStore!).incoming.isEmpty)

                let status = try harness.client.message("a status naming the pushed model") { message in
                    message.topic == "elutq/d1/status" && (try? JSON(parsing: message.payload))?["model"]?["sha256"]?.string == fixture.modelSHA256
                }
                #expect((try JSON(parsing: status.payload))["model"]?["name"]?.string == "pushed")
                harness.client.publish("elutq/d1/prompt", promptRequest("after", "What is the capital of France?", maxTokens: 12))
                let final = try #require(try harness.client.reply("after").final)
                #expect(final["model_sha256"]?.string == fixture.modelSHA256)
                #expect(final["model"]?.string == "pushed")
                #expect(oldSHA != fixture.modelSHA256)

                // The store lists it as active; the active model cannot be deleted.
                let models = try run("elutq", ["models", "--device", "d1", "--json"] + harness.brokerFlags)
                #expect(models.status == 0, "\(models.stderr)")
                let list = try JSON(parsing: Array(models.stdout.utf8))["models"]?.array ?? []
                #expect(list.count == 1)
                #expect(list.first?["sha256"]?.string == fixture.modelSHA256 && list.first?["active"]?.bool == true)
                #expect(list.first?["size"]?.int == Int64(try Data(contentsOf: stored).count))
                let refused = try run("elutq", ["rm", "--device", "d1", "pushed", "--key", fixture.trustedKey] + harness.brokerFlags)
                #expect(refused.status != 0 && refused.stderr.contains("conflict"), "\(refused.stderr)")
                #expect(FileManager.default.fileExists(atPath: stored.path))
                // Pushing the same file again finds it installed and sends no block.
                let again = try run("elutq", ["push", "--device", "d1", fixture.model, "--signature", signature, "--json"] + harness.brokerFlags)
                let repeated = try JSON(parsing: Array(again.stdout.utf8))
                #expect(repeated["blocks_sent"]?.int == 0, "\(again.stderr)")
                #expect(repeated["already_present"]?.int == repeated["bytes"]?.int)
            }
        }

        /// `--fleet` pushes to every online member of the group, and to no one else.
        @Test func aFleetPushReachesEveryOnlineMember() throws {
            let fixture = try PushFixture.shared.get()
            try withHarness { harness in
                var agents: [Agent] = []
                for (device, group) in [("f1", "kitchen"), ("f2", "kitchen"), ("f3", "garage")] {
                    let configure = try pushConfiguration(harness)
                    agents.append(try harness.startAgent(device) { configure(&$0); $0.group = group })
                }
                let push = try run("elutq", ["push", "--fleet", "kitchen", fixture.model, "--key", fixture.trustedKey, "--activate", "--json"]
                                   + harness.brokerFlags)
                #expect(push.status == 0, "\(push.stderr)")
                let devices = push.stdout.split(separator: "\n").compactMap { try? JSON(parsing: Array($0.utf8)) }
                #expect(devices.compactMap { $0["device"]?.string } == ["f1", "f2"])
                #expect(devices.allSatisfy { $0["ok"]?.bool == true })
                #expect(agents.map { $0.identity.sha256 == fixture.modelSHA256 } == [true, true, false])
                #expect(agents.map { storeContents($0.configuration.modelStore!).models.count } == [1, 1, 0])
            }
        }

        /// A fleet push hears every device on one reply topic. d1, asked again after its push ended
        /// (as a sender asks when d1 verifies longer than the stall timeout), answers `installed`
        /// once more; d2's push must not take that for d2's.
        @Test func anotherDevicesLateInstalledIsNotTakenForTheTargets() throws {
            let fixture = try PushFixture.shared.get()
            try withHarness { harness in
                try harness.startAgent("d1", configure: try pushConfiguration(harness))
                let second = try harness.startAgent("d2", configure: try pushConfiguration(harness))
                let pusher = try PushClient(broker: harness.broker)
                let signed = try fixture.signedManifest()
                _ = try pusher.sender(device: "d1").push(file: fixture.model, signed: signed)
                pusher.client.publish(MQTTMessage(topic: Topics(prefix: "elutq", device: "d1").pushManifest, json: signed.document, qos: 1,
                                                  responseTopic: pusher.replyTopic))
                let summary = try pusher.sender(device: "d2").push(file: fixture.model, signed: signed)
                #expect(summary.blocksSent == signed.manifest.blockCount)
                let stored = second.configuration.modelStore! + "/smollm2-hlq4.hlq"
                #expect(FileManager.default.fileExists(atPath: stored))
                #expect((try? FileDigest.sha256(path: stored)) == fixture.modelSHA256)
            }
        }

        @Test func useSwitchesModelsAndRmDeletesTheInactiveOne() throws {
            let fixture = try PushFixture.shared.get()
            try withHarness { harness in
                let agent = try harness.startAgent("d1", configure: try pushConfiguration(harness))
                for name in ["first", "second"] {
                    let push = try run("elutq", ["push", "--device", "d1", fixture.model, "--key", fixture.trustedKey, "--name", name]
                                       + harness.brokerFlags)
                    #expect(push.status == 0, "\(push.stderr)")
                    #expect(push.stdout.contains("installed \(name)"))
                }
                #expect(agent.identity.sha256 != fixture.modelSHA256, "a push without --activate changes nothing served")
                let use = try run("elutq", ["use", "--device", "d1", "second", "--key", fixture.trustedKey] + harness.brokerFlags)
                #expect(use.status == 0, "\(use.stderr)")
                #expect(agent.identity.name == "second")
                let rm = try run("elutq", ["rm", "--device", "d1", "first", "--key", fixture.trustedKey] + harness.brokerFlags)
                #expect(rm.status == 0, "\(rm.stderr)")
                #expect(storeContents(agent.configuration.modelStore!).models == ["second.hlq"])
                let missing = try run("elutq", ["use", "--device", "d1", "first", "--key", fixture.trustedKey] + harness.brokerFlags)
                #expect(missing.status != 0 && missing.stderr.contains("not_found"))
                #expect(agent.identity.name == "second")
            }
        }

        /// A model that installs but does not load leaves the old model serving, and says so.
        @Test func aModelThatFailsToLoadRollsBack() throws {
            let fixture = try PushFixture.shared.get()
            try withHarness { harness in
                let agent = try harness.startAgent("d1", configure: try pushConfiguration(harness))
                let before = agent.identity
                // A stored file damaged after its install (bit rot, a bad write): it no longer opens as a model.
                let store = agent.configuration.modelStore!
                try FileManager.default.copyItem(atPath: try fixture.randomFile("junk.bin", count: 4096), toPath: store + "/broken.hlq")
                let use = try run("elutq", ["use", "--device", "d1", "broken", "--key", fixture.trustedKey] + harness.brokerFlags)
                #expect(use.status != 0)
                #expect(use.stderr.contains("load_failed") && use.stderr.contains("still serving \(before.name)"), "\(use.stderr)")
                #expect(agent.identity == before)
                harness.client.publish("elutq/d1/prompt", promptRequest("still", "Hi!", maxTokens: 4))
                #expect(try harness.client.reply("still").final?["model_sha256"]?.string == before.sha256)
            }
        }

        /// Prompts sent while a push and its activation run are all answered, each by the old or the new model.
        @Test func promptsDuringAPushAndActivationAreAllAnswered() throws {
            let fixture = try PushFixture.shared.get()
            try withHarness { harness in
                let agent = try harness.startAgent("d1", configure: try pushConfiguration(harness))
                let oldSHA = agent.identity.sha256
                let push = try launch("elutq", ["push", "--device", "d1", fixture.model, "--key", fixture.trustedKey, "--activate"]
                                      + harness.brokerFlags)
                var ids: [String] = []
                var round = 0
                while push.process.isRunning || round < 2 {
                    let id = "during-\(round)"
                    harness.client.publish("elutq/d1/prompt", promptRequest(id, "Name a colour.", maxTokens: 6))
                    ids.append(id)
                    round += 1
                    // One at a time, so the prompts span the push; each must get a final reply.
                    let transcript = try harness.client.reply(id)
                    let final = try #require(transcript.final, "\(id): \(String(describing: transcript.error))")
                    #expect([oldSHA, fixture.modelSHA256].contains(final["model_sha256"]?.string ?? ""))
                }
                #expect(try push.waitForExit() == 0, "\(push.stderr())")
                harness.client.publish("elutq/d1/prompt", promptRequest("after", "Name a colour.", maxTokens: 6))
                #expect(try harness.client.reply("after").final?["model_sha256"]?.string == fixture.modelSHA256)
                #expect(ids.count >= 2)
            }
        }
    }
}
