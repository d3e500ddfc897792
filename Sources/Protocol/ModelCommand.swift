import MQTT

/// `{id, command: "list" | "use" | "rm", name}` on a device's models topic: list the model
/// store, serve a stored model, or delete one. Every command is answered with the store's
/// listing (`Reply.models`) or an error.
public struct ModelCommand: Sendable {
    public var id: String
    /// As sent; `action()` checks it, once the device knows it has a store to act on.
    public var command: String
    public var name: String?
    public var route: ReplyRoute

    /// What a command asks for, once checked.
    public enum Action: Sendable, Equatable {
        case list
        case use(String)
        case remove(String)
    }

    /// The document `elutq models|use|rm` sends.
    public static func document(id: String, command: String, name: String?) -> JSON {
        var fields: [String: JSON] = ["id": .string(id), "command": .string(command)]
        if let name { fields["name"] = .string(name) }
        return .object(fields)
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
        return .success(ModelCommand(id: id, command: command, name: document?["name"]?.string, route: route))
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
