import Foundation
import MQTT

/// `{id, command: "list" | "use" | "rm", name, issued, nonce, signature}` on a device's models
/// topic: list the model store, serve a stored model, or delete one. Every command is answered
/// with the store's listing (`Reply.models`) or an error.
///
/// `use` and `rm` change what a device serves, so a device acts on them only when they are
/// signed by a trusted key (ModelPush's `ModelCommand+Signing`): `issued` (Unix milliseconds)
/// and the random `nonce` make each signed command usable once, on one device.
public struct ModelCommand: Sendable {
    public var id: String
    /// As sent; `action()` checks it, once the device knows it has a store to act on.
    public var command: String
    public var name: String?
    public var route: ReplyRoute
    /// When the sender signed the command, in Unix milliseconds.
    public var issued: Int64?
    /// A random string, different for every command the sender signs.
    public var nonce: String?
    /// The Ed25519 signature, sent in base64.
    public var signature: [UInt8]?

    /// What a command asks for, once checked.
    public enum Action: Sendable, Equatable {
        case list
        case use(String)
        case remove(String)
    }

    /// The document `elutq models|use|rm` sends.
    public var document: JSON {
        var fields: [String: JSON] = ["id": .string(id), "command": .string(command)]
        if let name { fields["name"] = .string(name) }
        if let issued { fields["issued"] = .int(issued) }
        if let nonce { fields["nonce"] = .string(nonce) }
        if let signature { fields["signature"] = .string(Data(signature).base64EncodedString()) }
        return .object(fields)
    }

    /// A command as a sender makes it, unsigned; the route is the device's business (it answers
    /// to the message's response topic), so a sender leaves it empty.
    public init(id: String, command: String, name: String?, route: ReplyRoute = ReplyRoute(topic: "", correlationData: nil)) {
        self.id = id
        self.command = command
        self.name = name
        self.route = route
    }

    /// Reads the id and the command, which decide where any error goes and whether there is a
    /// command at all; the command itself is checked by `action()`.
    public static func parse(_ message: MQTTMessage, topics: Topics) -> Result<ModelCommand, RejectedRequest> {
        let document = try? JSON(parsing: message.payload)
        let id = document?["id"]?.string.flatMap { Topics.isIdentifier($0, maxLength: 128) ? $0 : nil }
        let route = ReplyRoute(for: message, fallback: topics.reply(to: id))
        guard let id, let command = document?["command"]?.string else {
            let error = RequestError(.badRequest, "a model command is {\"id\": string, \"command\": \"list\" | \"use\" | \"rm\", \"name\": string}")
            return .failure(RejectedRequest(id: id, route: route, error: error))
        }
        var parsed = ModelCommand(id: id, command: command, name: document?["name"]?.string, route: route)
        parsed.issued = document?["issued"]?.int
        parsed.nonce = document?["nonce"]?.string
        parsed.signature = document?["signature"]?.string.flatMap { Data(base64Encoded: $0) }.map { Array($0) }
        return .success(parsed)
    }

    /// The command and the name it needs.
    public func action() throws(RequestError) -> Action {
        switch command {
        case "list": return .list
        case "use": return .use(try storedName())
        case "rm": return .remove(try storedName())
        default: throw RequestError(.badRequest, "unknown command \"\(command)\"; list, use or rm")
        }
    }

    private func storedName() throws(RequestError) -> String {
        guard let name, ModelName.isValid(name) else {
            throw RequestError(.badRequest, "name must be a stored model's name (letters, digits, - _ .)")
        }
        return name
    }
}
