import Agent
import AgentHarness
import ModelFile
import Protocol
import Testing
import TestSupport

extension BrokerTests.Bridging {
    /// The operator's `elutq push --activate` on the central broker installs a signed model on a
    /// device of the site broker and makes it the served one. The push's manifest names an MQTT v5
    /// response topic and the `use` that `--activate` sends carries correlation data: both must
    /// cross the bridge, or the device's answers go astray and the push times out
    /// (firmware-notes/broker.md).
    @Test func aSignedPushCrossesTheBridgeAndTheNextReplyNamesTheModel() throws {
        let fixture = try PushFixture.shared.get()
        try withHarness { harness in
            let agent = try harness.startAgent("s1", on: try harness.bridgedSite(), configure: try pushConfiguration(harness))
            let oldSHA = agent.identity.sha256
            let push = try run("elutq", ["push", "--device", "s1", fixture.model, "--key", fixture.trustedKey, "--name", "pushed",
                                         "--activate", "--json"] + harness.brokerFlags)
            #expect(push.status == 0, "\(push.stderr)")
            let summary = try JSON(parsing: Array(push.stdout.utf8))
            #expect(summary["ok"]?.bool == true)
            #expect(summary["active_sha256"]?.string == fixture.modelSHA256)

            let stored = agent.configuration.modelStore! + "/pushed.hlq"
            #expect(try FileDigest.sha256(path: stored) == fixture.modelSHA256)
            harness.client.publish("elutq/s1/prompt", promptRequest("after", "Say one word.", maxTokens: 4))
            let final = try #require(try harness.client.reply("after").final)
            #expect(final["model"]?.string == "pushed")
            #expect(final["model_sha256"]?.string == fixture.modelSHA256)
            #expect(oldSHA != fixture.modelSHA256, "the device served the pushed model before the push")
        }
    }
}
