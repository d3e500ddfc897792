import AgentHarness
import Crypto
import Foundation
import ModelPush
import MQTT
import Protocol
import Testing
import TestSupport

@testable import Agent

extension BrokerTests {
    /// Every bad push is refused with a reason, leaves nothing in the store, and the served model
    /// stays the one that was serving.
    @Suite(.needs(.executables)) struct PushRejection {
        /// Runs `body` against an agent with a fresh store, which `prepare` gets to add files to
        /// first; then checks the store is empty and the model unchanged.
        func refused(trusted: Bool = true, prepare: (_ store: String) throws -> Void = { _ in },
                     _ body: (PushClient, PushFixture) throws -> String) throws -> String {
            let fixture = try PushFixture.shared.get()
            var reason = ""
            try withHarness { harness in
                let agent = try harness.startAgent("d1", configure: try pushConfiguration(harness, trusted: trusted))
                let before = agent.identity
                try prepare(agent.configuration.modelStore!)
                reason = try body(try PushClient(broker: harness.broker), fixture)
                // The receiver's queue has finished with the push once it has answered a model command.
                harness.client.publish("elutq/d1/models", ["id": "list", "command": "list"])
                #expect(try harness.client.reply("list").final != nil)
                let contents = storeContents(agent.configuration.modelStore!)
                #expect(contents.models.isEmpty, "\(contents.models)")
                #expect(contents.incoming.isEmpty, "\(contents.incoming)")
                #expect(agent.identity == before)
            }
            return reason
        }

        /// Pushes `file` under `signed` with the sender and returns the device's reason for refusing it.
        func reason(pushing file: String, _ signed: SignedManifest, with pusher: PushClient) -> String {
            do {
                _ = try pusher.sender(device: "d1").push(file: file, signed: signed)
                return "accepted"
            } catch {
                return "\(error)"
            }
        }

        @Test func aWrongSHA256() throws {
            let reason = try refused { pusher, fixture in
                var manifest = try PushManifest(file: fixture.model)
                manifest.sha256 = String(repeating: "0", count: 64)
                return self.reason(pushing: fixture.model, try SignedManifest.sign(manifest, with: try SigningKeys.privateKey(at: fixture.trustedKey)),
                                   with: pusher)
            }
            #expect(reason.hasPrefix("SHA-256 mismatch"), "\(reason)")
        }

        @Test func aManifestSignedByAnUntrustedKey() throws {
            let reason = try refused { pusher, fixture in
                let signed = try SignedManifest.sign(try PushManifest(file: fixture.model), with: try SigningKeys.privateKey(at: fixture.untrustedKey))
                return self.reason(pushing: fixture.model, signed, with: pusher)
            }
            #expect(reason.contains("does not verify against any trusted key"), "\(reason)")
        }

        @Test func aModifiedManifest() throws {
            let reason = try refused { pusher, fixture in
                var signed = try fixture.signedManifest()
                signed.manifest.name = "other-name"
                return self.reason(pushing: fixture.model, signed, with: pusher)
            }
            #expect(reason.contains("does not verify against any trusted key"), "\(reason)")
        }

        @Test func anUnsignedPush() throws {
            let reason = try refused { pusher, fixture in
                self.reason(pushing: fixture.model, SignedManifest(manifest: try PushManifest(file: fixture.model), signature: nil), with: pusher)
            }
            #expect(reason.contains("not signed"), "\(reason)")
        }

        @Test func aFileThatIsNotAModel() throws {
            let reason = try refused { pusher, fixture in
                let file = try fixture.randomFile("not-a-model.hlq", count: 300_000)
                let signed = try SignedManifest.sign(try PushManifest(file: file), with: try SigningKeys.privateKey(at: fixture.trustedKey))
                return self.reason(pushing: file, signed, with: pusher)
            }
            #expect(reason.hasPrefix("the file is not a valid .hlq model"), "\(reason)")
        }

        @Test func anyPushToAnAgentThatTrustsNoKey() throws {
            let reason = try refused(trusted: false) { pusher, fixture in
                self.reason(pushing: fixture.model, try fixture.signedManifest(), with: pusher)
            }
            #expect(reason.contains("trusts no signing keys"), "\(reason)")
        }

        /// The free space is checked before anything is written: a (signed) 32 TiB model is refused
        /// at once. What other pushes left in `.incoming/` is deleted before the check, so an
        /// abandoned partial file can never hold on to the space a new push needs.
        @Test func aModelLargerThanTheFreeDisk() throws {
            // The partial file of a push abandoned across an agent restart.
            let leftover = { (store: String) in
                try Data(count: 4096).write(to: URL(fileURLWithPath: "\(store)/.incoming/\(String(repeating: "2", count: 64)).part"))
            }
            let reason = try refused(prepare: leftover) { pusher, fixture in
                let manifest = PushManifest(name: "huge", size: 1 << 45, sha256: String(repeating: "1", count: 64), blockSize: 1 << 18)
                let signed = try SignedManifest.sign(manifest, with: try SigningKeys.privateKey(at: fixture.trustedKey))
                guard case .rejected(_, let reason) = try pusher.sendManifest(signed.document, device: "d1") else { return "accepted" }
                return reason
            }
            #expect(reason.hasPrefix("not enough disk space in the model store"), "\(reason)")
        }

        @Test func garbageOnThePushTopicsLeavesTheAgentServing() throws {
            let reason = try refused { pusher, _ in
                pusher.sendBlock(Array("not a block".utf8), device: "d1")
                guard case .rejected(_, let reason) = try pusher.sendManifest(["name": 5], device: "d1") else { return "accepted" }
                return reason
            }
            #expect(reason.contains("manifest field"), "\(reason)")
        }
    }
}
