import MQTT
import Runtime
import Tokenizer

extension PromptRequest {
    static let fields: Set<String> = [
        "id", "prompt", "messages", "max_tokens", "temperature", "top_p", "top_k", "seed", "stop", "stream", "group",
    ]

    /// Checks a prompt message: size, UTF-8, JSON, the id, then every field's type and range.
    /// Checks run in that order so the reply can go to `reply/<id>` as soon as the id is known.
    public static func parse(_ message: MQTTMessage, limits: RequestLimits, topics: Topics) -> Result<PromptRequest, RejectedRequest> {
        var id: String?
        func reject(_ error: RequestError) -> Result<PromptRequest, RejectedRequest> {
            .failure(RejectedRequest(id: id, route: ReplyRoute(for: message, fallback: topics.reply(to: id)), error: error))
        }
        func reject(_ code: RequestError.Code, _ text: String) -> Result<PromptRequest, RejectedRequest> {
            reject(RequestError(code, text))
        }
        guard message.payload.count <= limits.maxPayloadBytes else {
            return reject(.tooLarge, "the request is \(message.payload.count) bytes, more than the \(limits.maxPayloadBytes) a prompt of max_prompt_bytes = \(limits.maxPromptBytes) can need")
        }
        let document: JSON
        do {
            document = try JSON(parsing: message.payload)
        } catch {
            return reject(.badRequest, "the request is \(error)")
        }
        guard let fields = document.object else { return reject(.badRequest, "the request must be a JSON object, got \(document.typeName)") }
        guard let idValue = fields["id"] else { return reject(.badRequest, "the request has no id") }
        guard let idText = idValue.string else { return reject(.badRequest, "id must be a string, got \(idValue.typeName)") }
        guard Topics.isIdentifier(idText, maxLength: 128) else {
            return reject(.badRequest, "id must be 1 to 128 letters, digits, - _ . or :")
        }
        id = idText
        if let responseTopic = message.responseTopic, !MQTTClient.isValidTopic(responseTopic) {
            return reject(.badRequest, "the response topic \"\(responseTopic)\" is not a topic one can publish to")
        }
        do throws(RequestError) {
            return .success(try parseFields(fields, id: idText, limits: limits, route: ReplyRoute(for: message, fallback: topics.reply(to: idText))))
        } catch {
            return reject(error)
        }
    }

    private static func parseFields(_ fields: [String: JSON], id: String, limits: RequestLimits,
                                    route: ReplyRoute) throws(RequestError) -> PromptRequest {
        if let unknown = fields.keys.sorted().first(where: { !Self.fields.contains($0) }) {
            throw RequestError(.badRequest, "unknown field \"\(unknown)\"")
        }
        let messages = try parseMessages(fields)
        let promptBytes = messages.reduce(0) { $0 + $1.content.utf8.count }
        guard promptBytes <= limits.maxPromptBytes else {
            throw RequestError(.tooLarge, "the prompt is \(promptBytes) bytes, more than max_prompt_bytes = \(limits.maxPromptBytes)")
        }
        var options = limits.defaults
        if let value = fields["max_tokens"] {
            let maxTokens = try wholeNumber(value, "max_tokens", 1...Int64.max)
            guard maxTokens <= limits.maxNewTokens else {
                throw RequestError(.tooLarge, "max_tokens is \(maxTokens), more than max_new_tokens = \(limits.maxNewTokens)")
            }
            options.maxTokens = Int(maxTokens)
        }
        if let value = fields["temperature"] { options.sampling.temperature = Float(try number(value, "temperature", 0...5)) }
        if let value = fields["top_p"] { options.sampling.topP = Float(try number(value, "top_p", 0...1)) }
        if let value = fields["top_k"] { options.sampling.topK = Int(try wholeNumber(value, "top_k", 0...1_000_000)) }
        if let value = fields["seed"] {
            options.sampling.seed = UInt64(try wholeNumber(value, "seed", 0...Int64.max))
        }
        if let value = fields["stop"] { options.stop = try parseStop(value) }
        var stream = true
        if let value = fields["stream"] {
            guard let flag = value.bool else { throw RequestError(.badRequest, "stream must be true or false, got \(value.typeName)") }
            stream = flag
        }
        var group: String?
        if let value = fields["group"] {
            guard let text = value.string else { throw RequestError(.badRequest, "group must be a string, got \(value.typeName)") }
            group = text
        }
        return PromptRequest(id: id, messages: messages, options: options, stream: stream, group: group, route: route)
    }

    /// `prompt` (a string, sent as one user message) or `messages` (`[{role, content}]`), not both.
    private static func parseMessages(_ fields: [String: JSON]) throws(RequestError) -> [ChatMessage] {
        switch (fields["prompt"], fields["messages"]) {
        case (nil, nil):
            throw RequestError(.badRequest, "the request needs prompt or messages")
        case (.some, .some):
            throw RequestError(.badRequest, "the request has both prompt and messages; send one")
        case (let prompt?, nil):
            guard let text = prompt.string else { throw RequestError(.badRequest, "prompt must be a string, got \(prompt.typeName)") }
            guard !text.isEmpty else { throw RequestError(.badRequest, "prompt is empty") }
            return [ChatMessage(role: "user", content: text)]
        case (nil, let list?):
            guard let items = list.array else { throw RequestError(.badRequest, "messages must be an array, got \(list.typeName)") }
            guard !items.isEmpty else { throw RequestError(.badRequest, "messages is empty") }
            guard items.count <= RequestLimits.maxMessages else {
                throw RequestError(.tooLarge, "messages has \(items.count) entries, more than \(RequestLimits.maxMessages)")
            }
            var messages: [ChatMessage] = []
            for (index, item) in items.enumerated() {
                guard let role = item["role"]?.string, RequestLimits.roles.contains(role) else {
                    throw RequestError(.badRequest, "messages[\(index)].role must be \"system\", \"user\" or \"assistant\"")
                }
                guard let content = item["content"]?.string else {
                    throw RequestError(.badRequest, "messages[\(index)].content must be a string")
                }
                guard item.object?.count == 2 else {
                    throw RequestError(.badRequest, "messages[\(index)] may only have role and content")
                }
                messages.append(ChatMessage(role: role, content: content))
            }
            return messages
        }
    }

    /// `stop`: one string or an array of them.
    private static func parseStop(_ value: JSON) throws(RequestError) -> [String] {
        let items: [JSON] = value.array ?? [value]
        guard items.count <= RequestLimits.maxStopStrings else {
            throw RequestError(.badRequest, "stop has \(items.count) strings, more than \(RequestLimits.maxStopStrings)")
        }
        var strings: [String] = []
        for item in items {
            guard let text = item.string, !text.isEmpty, text.utf8.count <= RequestLimits.maxStopBytes else {
                throw RequestError(.badRequest, "stop must be a string or an array of strings of 1 to \(RequestLimits.maxStopBytes) bytes")
            }
            strings.append(text)
        }
        return strings
    }

    private static func number(_ value: JSON, _ name: String, _ range: ClosedRange<Double>) throws(RequestError) -> Double {
        guard let number = value.number, range.contains(number) else {
            throw RequestError(.badRequest, "\(name) must be a number from \(plain(range.lowerBound)) to \(plain(range.upperBound)), got \(shown(value))")
        }
        return number
    }

    private static func wholeNumber(_ value: JSON, _ name: String, _ range: ClosedRange<Int64>) throws(RequestError) -> Int64 {
        guard let number = value.int, range.contains(number) else {
            throw RequestError(.badRequest, "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), got \(shown(value))")
        }
        return number
    }

    /// A number as written, any other value by its type, so an error never echoes a whole prompt back.
    private static func shown(_ value: JSON) -> String {
        value.number != nil ? value.serialized : value.typeName
    }

    private static func plain(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
