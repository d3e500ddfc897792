import Foundation
import ModelPush
import MQTT

extension Agent {
    /// A manifest or block: handed to the receiver, or refused when there is no model store.
    func receivePush(_ message: MQTTMessage) {
        if let receiver { return receiver.receive(message, agent: self) }
        guard message.topic == topics.pushManifest else { return }
        let sha = (try? JSON(parsing: message.payload))?["sha256"]?.string ?? ""
        send(.rejected(sha256: sha, reason: "this device has no model_store, so it takes no pushes"),
             to: ReplyRoute(topic: message.responseTopic ?? topics.pushEvents, correlationData: message.correlationData))
    }

    /// Publishes a transfer event to the sender (on `push/events` when it named no response
    /// topic), with this device's id: one sender pushing to a fleet hears every device on one
    /// topic, and must not take another device's `installed` for its own.
    func send(_ event: PushEvent, to route: ReplyRoute?) {
        let route = route ?? ReplyRoute(topic: topics.pushEvents, correlationData: nil)
        let document = JSON.object((event.document.object ?? [:]).merging(["device": .string(topics.device)]) { $1 })
        client?.publish(MQTTMessage(topic: route.topic, json: document, qos: configuration.qos, correlationData: route.correlationData))
    }

    /// `{id, command: "list" | "use" | "rm", name}` on the models topic. Every command answers with
    /// the store's list and the active model, or with an error; they run on the receiver's queue,
    /// one at a time and never during an install.
    func modelCommand(_ message: MQTTMessage) {
        let document = try? JSON(parsing: message.payload)
        let id = document?["id"]?.string.flatMap { AgentConfiguration.isIdentifier($0, maxLength: 128) ? $0 : nil }
        let route = ReplyRoute(for: message, id: id, topics: topics)
        @Sendable func answer(_ result: Result<JSON, RequestError>) {
            let reply: JSON
            switch result {
            case .success(let body):
                reply = .object(["id": JSON(id), "done": true, "device": .string(topics.device)].merging(body.object ?? [:]) { $1 })
            case .failure(let error):
                log.info("refused a model command", ["id": id ?? "unknown", "code": error.code.rawValue, "reason": error.message])
                reply = Reply.error(error).document(id: id, device: topics.device, model: identity)
            }
            client?.publish(MQTTMessage(topic: route.topic, json: reply, qos: configuration.qos, correlationData: route.correlationData))
        }
        guard let id, let command = document?["command"]?.string else {
            return answer(.failure(RequestError(.badRequest, "a model command is {\"id\": string, \"command\": \"list\" | \"use\" | \"rm\", \"name\": string}")))
        }
        guard let receiver else { return answer(.failure(RequestError(.badRequest, "this device has no model_store"))) }
        let name = document?["name"]?.string
        receiver.queue.async { [self] in
            do throws(RequestError) {
                switch command {
                case "list": break
                case "use": try activate(try modelName(name), store: receiver.store)
                case "rm": try remove(try modelName(name), store: receiver.store)
                default: throw RequestError(.badRequest, "unknown command \"\(command)\"; list, use or rm")
                }
                answer(.success(storeDocument(receiver.store)))
            } catch {
                answer(.failure(error))
            }
            log.debug("model command", ["id": id, "command": command])
        }
    }

    private func modelName(_ name: String?) throws(RequestError) -> String {
        guard let name, PushManifest.isValidName(name) else {
            throw RequestError(.badRequest, "name must be a stored model's name (letters, digits, - _ .)")
        }
        return name
    }

    /// `{models: [{name, size, sha256, active}], active: {name, sha256}}`.
    func storeDocument(_ store: ModelStore) -> JSON {
        let served = serving
        let models = store.list(log: log).map { entry -> JSON in
            ["name": .string(entry.name), "size": JSON(entry.size), "sha256": .string(entry.sha256),
             "active": .bool(served.isServed(store.path(of: entry.name)))]
        }
        return ["models": .array(models), "active": ["name": .string(identity.name), "sha256": .string(identity.sha256)]]
    }

    /// Loads a stored model in full, then swaps it in for the next request. If it does not load,
    /// the model that was serving simply goes on (it was never let go), and the error says so.
    func activate(_ name: String, store: ModelStore) throws(RequestError) {
        let path = store.path(of: name)
        guard FileManager.default.fileExists(atPath: path) else { throw RequestError(.notFound, "the store holds no model \(name)") }
        guard !serving.isServed(path) else { return }
        let previous = identity
        do {
            let model = try Self.load(path, tables: configuration.tables, pool: pool, log: log)
            swap(to: ServingModel(model: model, sha256: try ModelIdentity.sha256(ofFile: path, log: log),
                                  contextSize: configuration.contextSize, pool: pool))
        } catch {
            log.error("cannot load the model; still serving the previous one", ["name": name, "error": "\(error)", "serving": previous.name])
            throw RequestError(.loadFailed, "cannot load \(name): \(error); still serving \(previous.name) (\(previous.sha256))")
        }
        do { try store.recordActive(name) } catch {
            log.warn("cannot record the active model; a restart serves the previous one", ["error": error.localizedDescription])
        }
        log.info("serving a new model", ["name": name, "sha256": identity.sha256, "previous": previous.name])
        client?.publish(statusMessage(online: true))
    }

    func remove(_ name: String, store: ModelStore) throws(RequestError) {
        let path = store.path(of: name)
        guard FileManager.default.fileExists(atPath: path) else { throw RequestError(.notFound, "the store holds no model \(name)") }
        guard !serving.isServed(path) else { throw RequestError(.conflict, "\(name) is the model being served; `use` another one first") }
        do { try store.remove(name) } catch {
            throw RequestError(.internal, "cannot delete \(name): \(error.localizedDescription)")
        }
        log.info("deleted a stored model", ["name": name])
    }
}
