import MQTT
import Testing

/// Which topics a message may be published to: the agent checks a request's response topic with
/// this before it answers there.
@Suite struct TopicValidationTests {
    @Test(arguments: ["elutq/d1/reply/r1", "test/replies/p0", "a", "with space/and-ünïcödé"])
    func plainTopicsAreValid(topic: String) {
        #expect(MQTTClient.isValidTopic(topic))
    }

    @Test(arguments: ["elutq/+/reply", "elutq/#", "#", "+", String(repeating: "x", count: 65_536)])
    func wildcardsAndOverlongTopicsAreNot(topic: String) {
        #expect(!MQTTClient.isValidTopic(topic))
    }
}
