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
    /// The file being served is never replaced or deleted: not by a push that became one onto
    /// it mid-transfer, not by `rm` when agent.conf spells its path another way.
    @Suite(.needs(.executables)) struct PushServedModel {
        /// The name was free of the served model when the manifest came; a `use` of that name
        /// mid-transfer makes it the served one, and the install must then refuse to rename over it.
        @Test func aPushOntoANameServedSinceItsManifestIsRefusedAtInstall() throws {
            let fixture = try PushFixture.shared.get()
            try withHarness { harness in
                let agent = try harness.startAgent("d1", configure: try pushConfiguration(harness))
                let store = agent.configuration.modelStore!
                // Another model (the GGUF, which loads whatever its file is called) stored as "x".
                try FileManager.default.copyItem(atPath: try realModelPath(), toPath: store + "/x.hlq")
                let before = try FileDigest.sha256(path: store + "/x.hlq")
                var options = PushSender.Options()
                // No second manifest, whose own check would refuse the push before the install's.
                options.stallTimeout = patience
                options.giveUpAfter = patience
                let pusher = try PushClient(broker: harness.broker)
                var used = false
                var outcome = "installed"
                do {
                    _ = try pusher.sender(device: "d1", options: options)
                        .push(file: fixture.model, signed: try fixture.signedManifest(name: "x")) { done, total in
                            guard !used, done >= total / 2 else { return }
                            used = true
                            harness.client.publish("elutq/d1/models", (try? fixture.signedCommand("use", name: "x", id: "use-x")) ?? [:])
                            _ = try? harness.client.reply("use-x")
                        }
                } catch {
                    outcome = "\(error)"
                }
                #expect(used && agent.identity.name == "x")
                #expect(outcome.contains("x is the model being served"), "\(outcome)")
                #expect(try FileDigest.sha256(path: store + "/x.hlq") == before)
                #expect(storeContents(store).incoming.isEmpty)
            }
        }

        /// agent.conf names the served model `<store>/./served.hlq`: `rm served` still finds it served.
        @Test func rmRefusesTheServedModelUnderAnotherSpellingOfItsPath() throws {
            let fixture = try PushFixture.shared.get()
            try withHarness { harness in
                let store = harness.broker.directory.appendingPathComponent("store").path
                try FileManager.default.createDirectory(atPath: store, withIntermediateDirectories: true)
                try FileManager.default.copyItem(atPath: fixture.model, toPath: store + "/served.hlq")
                let agent = try launch("elutq-agent", [
                    "--broker-host", "127.0.0.1", "--broker-port", String(harness.broker.port), "--device-id", "d1",
                    "--model", store + "/./served.hlq", "--model-store", store + "/", "--trusted-keys", fixture.trustedPublicKey,
                    "--context-size", "256", "--threads", "1", "--log-level", "warn"])
                defer { kill(agent.process.processIdentifier, SIGKILL) }
                try harness.client.status(of: "d1", online: true)
                let broker = ["--host", "127.0.0.1", "--port", String(harness.broker.port)]
                let models = try run("elutq", ["models", "--device", "d1", "--json"] + broker)
                let list = (try? JSON(parsing: Array(models.stdout.utf8)))?["models"]?.array ?? []
                #expect(list.first?["name"]?.string == "served" && list.first?["active"]?.bool == true, "\(models.stdout)\(models.stderr)")
                let refused = try run("elutq", ["rm", "--device", "d1", "served", "--key", fixture.trustedKey] + broker)
                #expect(refused.status != 0 && refused.stderr.contains("conflict"), "\(refused.stderr)")
                #expect(FileManager.default.fileExists(atPath: store + "/served.hlq"))
            }
        }
    }
}
