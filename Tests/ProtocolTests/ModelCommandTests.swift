import MQTT
import Protocol
import Testing

/// Model commands: the id and command decide where the answer goes; the command and name are
/// checked when the device acts on them.
@Suite struct ModelCommandTests {
    let topics = Topics(prefix: "elutq", device: "d1")

    func parse(_ text: String, responseTopic: String? = nil) -> Result<ModelCommand, RejectedRequest> {
        ModelCommand.parse(MQTTMessage(topic: topics.models, payload: Array(text.utf8), responseTopic: responseTopic), topics: topics)
    }

    @Test func theCLIsDocumentParsesBackToItsAction() throws {
        var sent = ModelCommand(id: "c-1", command: "use", name: "small")
        sent.issued = 1_700_000_000_123
        sent.nonce = "n0nce"
        sent.signature = [1, 2, 3]
        let document = sent.document
        let command = try parse(document.serialized, responseTopic: "elutq/client/x/reply").get()
        #expect(command.id == "c-1")
        #expect(command.route.topic == "elutq/client/x/reply")
        #expect(try command.action() == .use("small"))
        #expect(command.issued == sent.issued && command.nonce == sent.nonce && command.signature == sent.signature)
    }

    @Test func withoutIDOrCommandTheErrorGoesToTheReplyTopic() {
        guard case .failure(let missingID) = parse(#"{"command":"list"}"#),
              case .failure(let missingCommand) = parse(#"{"id":"a"}"#) else { Issue.record("accepted"); return }
        #expect(missingID.route.topic == "elutq/d1/reply/unknown")
        #expect(missingCommand.route.topic == "elutq/d1/reply/a")
        #expect(missingCommand.error.code == .badRequest)
    }

    @Test func unknownCommandsAndBadNamesAreRefused() throws {
        #expect(throws: RequestError.self) { try parse(#"{"id":"a","command":"delete","name":"x"}"#).get().action() }
        #expect(throws: RequestError.self) { try parse(#"{"id":"a","command":"rm","name":"../x"}"#).get().action() }
        #expect(throws: RequestError.self) { try parse(#"{"id":"a","command":"use"}"#).get().action() }
        #expect(try parse(#"{"id":"a","command":"list"}"#).get().action() == .list)
    }
}
