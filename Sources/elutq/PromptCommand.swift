import ArgumentParser
import Foundation
import MQTT
import Protocol
import Synchronization

/// `elutq prompt`: ask an agent over MQTT and stream its answer.
struct PromptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prompt",
        abstract: "Send a prompt to an elutq agent over MQTT and stream the reply to stdout.",
        discussion: """
            The reply comes back on this client's own topic (MQTT v5 response topic and correlation
            data). With --device, the command first waits for the device's status to be online.
            If the connection to the broker is lost before the answer is complete, or the device
            goes offline and comes back, the request is sent again: the agent answers it from the
            answers it keeps, or lets the generation under way answer it, and never generates it
            twice. Timings go to stderr at the end. Exits non-zero on an error reply or a timeout.
            """)

    @Argument(help: "The prompt, sent as a user message.") var text: String
    @Option(help: "The device to ask.") var device: String?
    @Option(help: "Ask one device of this fleet group; the broker picks which.") var fleet: String?
    @Option(help: "A system message to send before the prompt.") var system: String?
    @Option(name: .customLong("max-tokens"), help: "Most tokens to generate (default: the agent's max_new_tokens).") var maxTokens: Int?
    @Option(help: "Sampling temperature; 0 is greedy (default: the agent's).") var temperature: Double?
    @Option(name: .customLong("top-p"), help: "Nucleus sampling threshold.") var topP: Double?
    @Option(name: .customLong("top-k"), help: "Keep the k most likely tokens.") var topK: Int?
    @Option(help: "Random seed, for reproducible sampling.") var seed: Int?
    @Option(help: "Stop before this string (repeatable).") var stop: [String] = []
    @Option(help: "Seconds to wait for the whole reply.") var timeout: Double = 120
    @Flag(help: "Print the final reply document as JSON instead of streaming text.") var json = false
    @OptionGroup var broker: BrokerOptions

    func validate() throws {
        guard (device == nil) != (fleet == nil) else { throw ValidationError("give either --device or --fleet") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    }

    func run() throws {
        let settings = try broker.settings()
        let id = UUID().uuidString.lowercased()
        let clientID = BrokerOptions.clientID("prompt")
        let replyTopic = Topics.clientReplies(prefix: settings.topicPrefix, clientID: clientID)
        let target = device.map { Topics(prefix: settings.topicPrefix, device: $0) }
        let inbox = MessageInbox()
        let reconnected = Atomic(false)
        let client = try broker.connect(settings, clientID: clientID, subscriptions: [replyTopic] + (target.map { [$0.status] } ?? []),
                                        inbox: inbox, reconnected: { reconnected.store(true, ordering: .relaxed) })
        defer { client.stop() }
        let deadline = Date().addingTimeInterval(timeout)
        if let target { try waitUntilOnline(target, inbox: inbox, deadline: deadline) }

        let promptTopic = target?.prompt ?? Topics.fleetPrompt(prefix: settings.topicPrefix)
        let sentAt = Date()
        let ask = MQTTMessage(topic: promptTopic, json: request(id: id), qos: 1, responseTopic: replyTopic, correlationData: Array(id.utf8))
        client.publish(ask)
        var firstChunkAt: Date?, streamed = "", resend = ResendPolicy()
        while deadline.timeIntervalSinceNow > 0 {
            if reconnected.exchange(false, ordering: .relaxed) {
                FileHandle.standardError.write(Data("elutq: reconnected to the broker; asking again for the answer\n".utf8))
                resend.clientReconnected()
                client.publish(ask)
            }
            // Short waits, so a reconnection is noticed while no message comes.
            guard let message = inbox.next(timeout: min(0.5, deadline.timeIntervalSinceNow)) else { continue }
            if message.topic == target?.status {
                if let status = try? JSON(parsing: message.payload), resend.sendsAgain(onStatus: status) { client.publish(ask) }
                continue
            }
            guard message.topic == replyTopic, message.correlationData == Array(id.utf8),
                  let reply = try? JSON(parsing: message.payload) else { continue }
            if let error = Reply.errorText(of: reply) {
                if json { print(reply.serialized) }
                throw failure(error)
            }
            if reply["done"]?.bool == true {
                if json {
                    print(reply.serialized)
                } else {
                    let final = reply["text"]?.string ?? ""
                    if let rest = Self.rest(of: final, after: streamed) {
                        FileHandle.standardOutput.write(Data((rest + "\n").utf8))
                    } else {
                        FileHandle.standardError.write(Data("\nelutq: part of the stream was lost; the whole answer follows\n".utf8))
                        FileHandle.standardOutput.write(Data(("\n" + final + "\n").utf8))
                    }
                    report(reply, sentAt: sentAt, firstChunkAt: firstChunkAt)
                }
                return
            }
            if let chunk = reply["text"]?.string {
                if firstChunkAt == nil { firstChunkAt = Date() }
                streamed += chunk
                if !json { FileHandle.standardOutput.write(Data(chunk.utf8)) }
            }
        }
        // Give up, and tell the agent so it stops generating for nobody.
        let cancelTopic = target?.cancel ?? Topics.fleetCancel(prefix: settings.topicPrefix)
        client.publish(MQTTMessage(topic: cancelTopic, json: CancelRequest(id: id).document, qos: 1))
        _ = client.flush(timeout: 2)
        throw failure("no complete reply within \(timeout) s")
    }

    /// What the final text adds to what was streamed, or nil when chunks were lost on the way (a
    /// broker restart). Compared as bytes: a chunk may end inside a character of several scalars.
    static func rest(of final: String, after streamed: String) -> String? {
        guard final.utf8.starts(with: streamed.utf8) else { return nil }
        return String(decoding: final.utf8.dropFirst(streamed.utf8.count), as: UTF8.self)
    }

    private func request(id: String) -> JSON {
        var messages: [JSON] = []
        if let system { messages.append(["role": "system", "content": .string(system)]) }
        messages.append(["role": "user", "content": .string(text)])
        var document: [String: JSON] = ["id": .string(id), "messages": .array(messages), "stream": .bool(!json)]
        if let maxTokens { document["max_tokens"] = JSON(maxTokens) }
        if let temperature { document["temperature"] = JSON(temperature) }
        if let topP { document["top_p"] = JSON(topP) }
        if let topK { document["top_k"] = JSON(topK) }
        if let seed { document["seed"] = JSON(seed) }
        if !stop.isEmpty { document["stop"] = .array(stop.map(JSON.string)) }
        if let fleet { document["group"] = .string(fleet) }
        return .object(document)
    }

    /// The timings line on stderr: what the agent measured, and what this client saw end to end.
    private func report(_ reply: JSON, sentAt: Date, firstChunkAt: Date?) {
        let endToEnd = firstChunkAt.map { "\(Int(($0.timeIntervalSince(sentAt) * 1000).rounded())) ms" } ?? "-"
        let device = reply["device"]?.string ?? "?"
        let tokensIn = reply["tokens_in"]?.int ?? 0, tokensOut = reply["tokens_out"]?.int ?? 0
        let speed = String(format: "%.1f", reply["tokens_per_s"]?.number ?? 0)
        let firstToken = Int((reply["ttft_ms"]?.number ?? 0).rounded())
        let line = "\(device): \(tokensIn) prompt tokens, \(tokensOut) generated at \(speed) tok/s; "
            + "first token \(firstToken) ms into the generation, first chunk \(endToEnd) after publish "
            + "(\(reply["finish_reason"]?.string ?? "?"))\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}
