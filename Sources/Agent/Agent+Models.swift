import Foundation
import ModelPush
import MQTT
import Protocol

extension Agent: ModelReceiverSink {
    /// A push's manifest: handed to the receiver, or refused when there is no model store.
    func receiveManifest(_ message: MQTTMessage) {
        let route = ReplyRoute(for: message, fallback: topics.pushEvents)
        if let receiver { return receiver.receiveManifest(message, route: route, sink: self) }
        let sha = (try? JSON(parsing: message.payload))?["sha256"]?.string ?? ""
        publish(.rejected(sha256: sha, reason: "this device has no model_store, so it takes no pushes"), to: route)
    }

    /// Publishes a transfer event with this device's id: one sender pushing to a fleet hears
    /// every device on one topic, and must not take another device's `installed` for its own.
    func publish(_ event: PushEvent, to route: ReplyRoute) {
        let document = JSON.object((event.document.object ?? [:]).merging(["device": .string(topics.device)]) { $1 })
        client?.publish(document, to: route, qos: configuration.qos)
    }

    func isServed(_ path: String) -> Bool { serving.isServed(path) }

    /// A model command (`ModelCommand`). Every command answers with the store's listing or with
    /// an error; they run on the receiver's queue, one at a time and never during an install.
    /// `use` and `rm` are acted on only when signed by a trusted key (`ModelCommand.verify`).
    func modelCommand(_ message: MQTTMessage) {
        let command: ModelCommand
        switch ModelCommand.parse(message, topics: topics) {
        case .failure(let rejected): return refuse(rejected.error, id: rejected.id, route: rejected.route)
        case .success(let parsed): command = parsed
        }
        guard configuration.modelCommands else {
            return refuse(RequestError(.forbidden, "model commands are turned off on this device (model_commands = off)"),
                          id: command.id, route: command.route)
        }
        guard let receiver else {
            return refuse(RequestError(.badRequest, "this device has no model_store"), id: command.id, route: command.route)
        }
        receiver.queue.async { [self] in
            do throws(RequestError) {
                let action = try command.action()
                if command.needsSignature {
                    try command.verify(device: topics.device, trustedKeys: receiver.trustedKeys, replays: commandReplays)
                }
                switch action {
                case .list: break
                case .use(let name): try activate(name, store: receiver.store)
                case .remove(let name): try remove(name, store: receiver.store)
                }
                let listing = storeListing(receiver.store)
                client?.publish(listing.document(id: command.id, device: topics.device), to: command.route, qos: configuration.qos)
            } catch {
                refuse(error, id: command.id, route: command.route)
            }
            log.debug("model command", ["id": command.id, "command": command.command])
        }
    }

    private func refuse(_ error: RequestError, id: String?, route: ReplyRoute) {
        log.info("refused a model command", ["id": id ?? "unknown", "code": error.code.rawValue, "reason": error.message])
        client?.publish(Reply.error(error).document(id: id, device: topics.device, model: identity), to: route, qos: configuration.qos)
    }

    /// The stored models, and the one served.
    func storeListing(_ store: ModelStore) -> StoreListing {
        let served = serving
        let models = store.list(log: log).map { entry in
            StoreListing.Model(name: entry.name, size: entry.size, sha256: entry.sha256, active: served.isServed(store.path(of: entry.name)))
        }
        return StoreListing(models: models, active: identity)
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
            swap(to: ServingModel(model: model, sha256: try DigestSidecar.sha256(of: path, log: log),
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
