import AgentHarness
import Foundation
import ModelPush
import MQTT
import Protocol
import Testing
import TestSupport

@testable import Agent

extension BrokerTests {
    /// `use` and `rm` change what a device serves: unsigned, forged, replayed, stale or misdirected
    /// ones are refused with `forbidden` and leave the store and the served model as they were.
    @Suite(.needs(.executables)) struct SignedModelCommands {
        /// An agent with two stored models, "a" and "b" (copies of the fixture model), serving its
        /// configured model; `body` gets the harness, the agent and the fixture.
        func withStore(modelCommands: Bool = true, _ body: (Harness, Agent, PushFixture) throws -> Void) throws {
            let fixture = try PushFixture.shared.get()
            try withHarness { harness in
                let configure = try pushConfiguration(harness)
                let agent = try harness.startAgent("d1") { configure(&$0); $0.modelCommands = modelCommands }
                for name in ["a", "b"] {
                    try FileManager.default.copyItem(atPath: fixture.model, toPath: agent.configuration.modelStore! + "/\(name).hlq")
                }
                try body(harness, agent, fixture)
            }
        }

        /// Publishes `document` as a model command and returns the error reply's code and message.
        func refusal(_ document: JSON, id: String, _ harness: Harness) throws -> (code: String?, message: String) {
            harness.client.publish("elutq/d1/models", document)
            let reply = try harness.client.reply(id)
            return (reply.errorCode, reply.error?["error"]?["message"]?.string ?? "accepted: \(reply.final?.serialized ?? "")")
        }

        @Test func unsignedForgedAndMisdirectedCommandsAreRefused() throws {
            try withStore { harness, agent, fixture in
                let before = agent.identity
                let unsigned = try refusal(["id": "u", "command": "rm", "name": "a"], id: "u", harness)
                #expect(unsigned.code == "forbidden" && unsigned.message.contains("must be signed"), "\(unsigned)")
                let forged = try refusal(try fixture.signedCommand("use", name: "a", id: "f", key: fixture.untrustedKey), id: "f", harness)
                #expect(forged.code == "forbidden" && forged.message.contains("does not verify"), "\(forged)")
                let elsewhere = try refusal(try fixture.signedCommand("rm", name: "a", id: "o", device: "d2"), id: "o", harness)
                #expect(elsewhere.code == "forbidden" && elsewhere.message.contains("does not verify"), "\(elsewhere)")
                // A signed command whose name was changed after signing.
                var altered = try fixture.signedCommand("rm", name: "a", id: "t").object!
                altered["name"] = "b"
                let tampered = try refusal(.object(altered), id: "t", harness)
                #expect(tampered.code == "forbidden", "\(tampered)")
                #expect(storeContents(agent.configuration.modelStore!).models == ["a.hlq", "b.hlq"])
                #expect(agent.identity == before)
            }
        }

        @Test func aSignedCommandWorksOnceAndItsReplayIsRefused() throws {
            try withStore { harness, agent, fixture in
                let command = try fixture.signedCommand("rm", name: "a", id: "r")
                harness.client.publish("elutq/d1/models", command)
                #expect(try harness.client.reply("r").final != nil)
                #expect(storeContents(agent.configuration.modelStore!).models == ["b.hlq"])
                // The same bytes again, after "a" has been put back: refused, and "a" stays.
                try FileManager.default.copyItem(atPath: fixture.model, toPath: agent.configuration.modelStore! + "/a.hlq")
                let replay = try refusal(command, id: "r", harness)
                #expect(replay.code == "forbidden" && replay.message.contains("already used"), "\(replay)")
                #expect(storeContents(agent.configuration.modelStore!).models == ["a.hlq", "b.hlq"])
            }
        }

        /// A stale command is refused; so is one replayed after the agent restarted, since the
        /// nonces it admitted are kept in the store.
        @Test func aStaleCommandOrOneReplayedAfterARestartIsRefused() throws {
            try withStore { harness, agent, fixture in
                let before = agent.identity
                let stale = try refusal(try fixture.signedCommand("use", name: "a", id: "s", at: Date().addingTimeInterval(-3600)), id: "s", harness)
                #expect(stale.code == "forbidden" && stale.message.contains("command_max_age"), "\(stale)")
                #expect(agent.identity == before)
                let command = try fixture.signedCommand("use", name: "a", id: "ok")
                harness.client.publish("elutq/d1/models", command)
                #expect(try harness.client.reply("ok").final != nil)
                #expect(agent.identity.name == "a")
                // The statuses of the swap and of the stop, so that the restart waits for its own.
                try harness.client.status(of: "d1", online: true)
                agent.stop()
                try harness.client.status(of: "d1", online: false)
                let restarted = try harness.startAgent("d1") { $0 = agent.configuration }
                let replay = try refusal(command, id: "ok", harness)
                #expect(replay.code == "forbidden" && replay.message.contains("already used"), "\(replay)")
                // (The harness hands a restarted agent its shared model, so it serves that, not "a".)
                #expect(restarted.identity == before)
            }
        }

        @Test func modelCommandsCanBeTurnedOff() throws {
            try withStore(modelCommands: false) { harness, agent, fixture in
                let list = try refusal(["id": "l", "command": "list"], id: "l", harness)
                #expect(list.code == "forbidden" && list.message.contains("model_commands = off"), "\(list)")
                let use = try refusal(try fixture.signedCommand("use", name: "a", id: "u"), id: "u", harness)
                #expect(use.code == "forbidden", "\(use)")
                #expect(storeContents(agent.configuration.modelStore!).models == ["a.hlq", "b.hlq"])
            }
        }

        /// The CLI signs with --key and refuses to send a `use` without one.
        @Test func theCLISignsUseAndRm() throws {
            try withStore { harness, agent, fixture in
                let broker = ["--host", "127.0.0.1", "--port", String(harness.broker.port)]
                let unsigned = try run("elutq", ["use", "--device", "d1", "a"] + broker)
                #expect(unsigned.status != 0 && unsigned.stderr.contains("--key"), "\(unsigned.stderr)")
                let forged = try run("elutq", ["rm", "--device", "d1", "a", "--key", fixture.untrustedKey] + broker)
                #expect(forged.status != 0 && forged.stderr.contains("forbidden"), "\(forged.stderr)")
                let rm = try run("elutq", ["rm", "--device", "d1", "a", "--key", fixture.trustedKey] + broker)
                #expect(rm.status == 0, "\(rm.stderr)")
                #expect(storeContents(agent.configuration.modelStore!).models == ["b.hlq"])
            }
        }
    }
}
