import Crypto
import Dispatch
import Engine
import Foundation
import ModelPush
import MQTT
import NIOConcurrencyHelpers
import Parallel
import Protocol
import Runtime
import Synchronization

/// The elutq agent: serves one model's prompts over MQTT, one generation at a time, keeps the
/// fleet told of its presence and telemetry, and takes pushed models into its store.
///
/// Four threads share the work. The MQTT client's delivery queue checks each request and queues
/// it (or answers an error at once); the worker thread generates; the telemetry thread publishes
/// on a timer; the receiver's queue writes pushed blocks, installs models and swaps them in.
/// Replies go through the MQTT client, which holds them while the broker is away.
public final class Agent: Sendable {
    public static let version = "0.1.0"
    /// How long a shutdown lets the running request finish before cancelling it.
    static let shutdownGrace = 5.0
    /// Refusals of the credentials in a row (each after a longer backoff) before the agent gives up.
    static let maxAuthorizationFailures = 5

    public let configuration: AgentConfiguration
    public let log: Logger
    let topics: Topics
    let limits: RequestLimits
    let queue: RequestQueue
    /// Final answers of the last requests, for a request sent again.
    let answers = AnswerCache()
    let stats = ServingStats()
    let startedAt = Date()
    /// This process among agents that may share a device id (`AgentStatus.instance`).
    let instance = String(UUID().uuidString.prefix(8)).lowercased()
    /// Set when the agent must end: `elutq-agent` waits on it.
    public let exitRequest = ExitRequest()
    let authorizationFailures = Atomic<Int>(0)
    /// Connections made so far (`noticeStatus` tells an earlier run's status from a rival's by it).
    let connections = Atomic<Int>(0)
    /// When the agent last announced itself again after another instance's status (`noticeStatus`).
    let lastReannounce = NIOLockedValueBox<Date?>(nil)
    /// The generation threads, shared by every model the agent loads (one generates at a time).
    let pool: ThreadPool
    /// The model being served; `activate` swaps it between requests.
    private let current: NIOLockedValueBox<ServingModel>
    /// The model store and the push receiver, when `model_store` is set.
    let receiver: ModelReceiver?
    /// Signed `use` and `rm` commands already acted on, so none is acted on twice.
    let commandReplays: CommandReplayGuard
    /// Set by `start()`; the client's closures refer back to the agent, so it cannot exist before it.
    private let mqtt = NIOLockedValueBox<MQTTClient?>(nil)
    private let stopping = Atomic<Bool>(false)
    private let workerFinished = DispatchSemaphore(value: 0)
    let telemetryWake = DispatchSemaphore(value: 0)
    let telemetryFinished = DispatchSemaphore(value: 0)

    /// Loads the model to serve: `model` if given (tests share one loaded model between agents),
    /// else the store's last activated model, else the configuration's; and hashes its file for the status.
    public init(configuration: AgentConfiguration, model: LoadedModel? = nil) throws {
        let log = Logger(level: configuration.logLevel)
        let pool = ThreadPool(threadCount: configuration.threads)
        let store = try configuration.modelStore.map { try ModelStore(directory: $0) }
        let trustedKeys = try configuration.trustedKeys.map { path in
            do { return try SigningKeys.publicKey(at: path) } catch {
                throw ConfigurationError(location: "trusted_keys", line: nil, message: "\(error)")
            }
        }
        let loaded = try model ?? Self.loadStartingModel(configuration, store: store, pool: pool, log: log)
        current = NIOLockedValueBox(ServingModel(model: loaded, sha256: try DigestSidecar.sha256(of: loaded.path, log: log),
                                                 contextSize: configuration.contextSize, pool: pool))
        self.configuration = configuration
        self.log = log
        self.pool = pool
        topics = configuration.topics
        limits = RequestLimits(maxPromptBytes: configuration.maxPromptBytes, maxNewTokens: configuration.maxNewTokens,
                               defaults: configuration.defaultGenerationOptions)
        queue = RequestQueue(capacity: configuration.queueLength)
        receiver = store.map { ModelReceiver(store: $0, trustedKeys: trustedKeys) }
        commandReplays = CommandReplayGuard(maxAge: configuration.commandMaxAge,
                                            file: configuration.modelStore.map { $0 + "/.command-nonces" })
        if let problem = commandReplays.problem { log.warn("signed model commands: \(problem)") }
        if receiver != nil && trustedKeys.isEmpty {
            log.warn("no trusted_keys: every push will be refused", ["model_store": configuration.modelStore ?? "-"])
        }
    }

    /// The model a starting agent serves: the one last activated from the store, if it still
    /// loads, otherwise the configuration's `model`.
    private static func loadStartingModel(_ configuration: AgentConfiguration, store: ModelStore?, pool: ThreadPool,
                                          log: Logger) throws -> LoadedModel {
        if let store, let name = store.activeName {
            do {
                return try load(store.path(of: name), tables: configuration.tables, pool: pool, log: log)
            } catch {
                log.error("cannot load the active model of the store; serving the configured model", ["name": name, "error": "\(error)"])
            }
        }
        guard let path = configuration.model else {
            throw ConfigurationError(location: "model", line: nil, message: "no model to serve: set model in agent.conf or pass --model")
        }
        return try load(path, tables: configuration.tables, pool: pool, log: log)
    }

    static func load(_ path: String, tables: TablePrecision, pool: ThreadPool, log: Logger) throws -> LoadedModel {
        log.info("loading the model", ["path": path])
        let start = Date()
        let loaded = try LoadedModel.open(path, pool: pool, arithmetic: .lut(tables))
        log.info("model loaded", ["format": loaded.kind, "seconds": Reply.rounded(Date().timeIntervalSince(start))])
        return loaded
    }

    /// The model being served now.
    var serving: ServingModel { current.withLockedValue { $0 } }
    public var identity: ModelIdentity { serving.identity }

    /// Serves `model` from the next request on; the running request finishes on the old one.
    func swap(to model: ServingModel) {
        current.withLockedValue { $0 = model }
    }

    /// Connects to the broker and starts serving. Returns at once: the connection is made (and
    /// remade) in the background, and the status turns online once the subscriptions are in place.
    public func start() throws {
        var settings = configuration.broker.mqttConfiguration(clientID: "elutq-agent-\(topics.device)")
        settings.will = statusMessage(online: false)
        settings.maximumPacketSize = Self.maximumPacketSize(for: limits)
        settings.subscriptions = [topics.prompt, topics.cancel, topics.pushManifest, topics.pushBlock, topics.models, topics.status]
        if let group = configuration.group {
            settings.subscriptions += [topics.sharedFleetPrompt(group: group), topics.fleetCancel]
        }
        let client = try MQTTClient(configuration: settings,
                                    onMessage: { [weak self] in self?.received($0) },
                                    onEvent: { [weak self] in self?.handle($0) })
        mqtt.withLockedValue { $0 = client }
        for file in configuration.secretsReadableByOthers {
            log.warn("a file holding a secret is readable by every user on this machine; chmod o-r it", ["file": file])
        }
        Self.startThread("elutq worker") { self.serveQueue() }
        Self.startThread("elutq telemetry") { self.publishTelemetryPeriodically() }
        client.start()
        log.info("agent started", [
            "device": topics.device, "model": identity.name, "sha256": identity.sha256, "group": configuration.group ?? "-",
            "broker": "\(configuration.brokerHost):\(configuration.brokerPort)", "version": Self.version,
        ])
    }

    /// The clean shutdown: refuses new requests, cancels the waiting ones, lets the running one
    /// finish for up to `shutdownGrace` seconds (then cancels it), publishes the offline status
    /// and disconnects, so the broker does not also publish the will.
    public func stop() {
        guard let client = mqtt.withLockedValue({ $0 }), !stopping.exchange(true, ordering: .relaxed) else { return }
        log.info("stopping")
        for job in queue.close() {
            job.cancel(.shutdown)
            send(.error(RequestError(stopping: job, afterTokens: nil)), for: job.request)
        }
        if workerFinished.wait(timeout: .now() + Self.shutdownGrace) == .timedOut {
            queue.running?.cancel(.shutdown)
            _ = workerFinished.wait(timeout: .now() + 30)
        }
        telemetryWake.signal()
        _ = telemetryFinished.wait(timeout: .now() + 5)
        // An agent that stops because another one holds its device id must not announce the
        // device offline: the other agent serves it.
        if case .fatal = exitRequest.current {} else { client.publish(statusMessage(online: false)) }
        if !client.flush(timeout: 5) { log.warn("the broker did not acknowledge everything before the disconnect") }
        client.stop()
        log.info("stopped")
    }

    var client: MQTTClient? { mqtt.withLockedValue { $0 } }

    /// One incoming message, on the MQTT delivery queue: a cancel, a push's manifest or block, a
    /// model command, or a prompt to check and queue.
    func received(_ message: MQTTMessage) {
        switch message.topic {
        case topics.cancel, topics.fleetCancel: cancel(message)
        case topics.pushManifest: receiveManifest(message)
        case topics.pushBlock: receiver?.receiveBlock(message, sink: self)
        case topics.models: modelCommand(message)
        case topics.status: noticeStatus(message)
        default: receivePrompt(message)
        }
    }

    /// A prompt, on this device's topic or the fleet's: checked, then queued or answered with its error.
    private func receivePrompt(_ message: MQTTMessage) {
        switch PromptRequest.parse(message, limits: limits, topics: topics) {
        case .failure(let rejected):
            log.warn("rejected a request", ["id": rejected.id ?? "unknown", "code": rejected.error.code.rawValue,
                                            "reason": rejected.error.message])
            send(.error(rejected.error), id: rejected.id, route: rejected.route)
        case .success(let request):
            if message.topic == topics.fleetPrompt, let group = request.group, group != configuration.group {
                log.debug("left a fleet prompt to group \(group)", ["id": request.id])
                return
            }
            if answerAgain(request) { return }
            enqueue(request)
        }
    }

    private func enqueue(_ request: PromptRequest) {
        let job = Job(request: request, timeout: configuration.requestTimeout)
        do {
            try queue.push(job)
            log.debug("queued", ["id": request.id, "depth": queue.depth])
        } catch .duplicateID where queue.job(id: request.id).map({ AnswerCache.isSame($0.request, as: request) }) ?? false {
            // The same client sent it again (after a reconnect, say): the answer under way goes to it.
            log.info("a request sent again is already queued or running; its answer will follow", ["id": request.id])
        } catch .duplicateID where answerAgain(request) {
            // It finished between the two checks: answered from the answers kept.
        } catch {
            let refusal = RequestError(refused: error, id: request.id, capacity: queue.capacity)
            log.info("refused a request", ["id": request.id, "code": refusal.code.rawValue])
            send(.error(refusal), for: request)
        }
    }

    /// `{id}` on a cancel topic: a waiting request leaves the queue with a `cancelled` reply; a
    /// running one stops before its next token and the worker replies.
    private func cancel(_ message: MQTTMessage) {
        guard let id = CancelRequest(message)?.id else {
            log.warn("ignored a cancel without a string id", ["topic": message.topic])
            return
        }
        if let job = queue.removeWaiting(id: id) {
            job.cancel(.cancelled)
            send(.error(RequestError(stopping: job, afterTokens: nil)), for: job.request)
        } else if let job = queue.running(id: id) {
            job.cancel(.cancelled)
        } else {
            log.debug("cancel for a request that is not here", ["id": id])
            return
        }
        log.info("cancelled", ["id": id])
    }

    /// The worker thread: one generation at a time, until the queue is closed.
    private func serveQueue() {
        while let job = queue.next() {
            let request = job.request
            // A copy queued while the first was finishing: its answer is kept by now.
            if answerAgain(request) {
                queue.finished()
                continue
            }
            // Taken once per request: a model swapped in meanwhile serves the next one.
            let model = serving
            model.runner.run(job) { reply in
                if case .final(let result) = reply {
                    stats.recordServed(result, duration: job.age)
                    log.info("served", ["id": request.id, "tokens_in": result.tokensIn, "tokens_out": result.tokensOut,
                                        "ttft_ms": Reply.rounded(result.timeToFirstTokenSeconds * 1000),
                                        "tokens_per_s": Reply.rounded(result.tokensPerSecond),
                                        "finish": result.finishReason.rawValue])
                } else if case .error(let error) = reply {
                    log.info("failed", ["id": request.id, "code": error.code.rawValue, "reason": error.message])
                }
                let document = reply.document(id: request.id, device: topics.device, model: model.identity)
                // Kept before it is sent: a request sent again from now on finds it.
                if case .final = reply { answers.store(document, for: request) }
                send(reply, document: document, route: request.route)
            }
            queue.finished()
        }
        workerFinished.signal()
    }

    /// Sends the answer kept for `request`, if this very request was answered before; says whether it did.
    private func answerAgain(_ request: PromptRequest) -> Bool {
        guard let answer = answers.answer(for: request) else { return false }
        log.info("answered a request sent again from the answers kept", ["id": request.id])
        client?.publish(answer, to: request.route, qos: configuration.qos)
        return true
    }

    func send(_ reply: Reply, for request: PromptRequest) {
        send(reply, id: request.id, route: request.route)
    }

    func send(_ reply: Reply, id: String?, route: ReplyRoute) {
        send(reply, document: reply.document(id: id, device: topics.device, model: identity), route: route)
    }

    /// Sends `document`, the form of `reply` on the wire, counting a failure.
    private func send(_ reply: Reply, document: JSON, route: ReplyRoute) {
        if case .error(let error) = reply { stats.recordFailure(error.code) }
        client?.publish(document, to: route, qos: configuration.qos)
    }

    private func handle(_ event: MQTTEvent) {
        switch event {
        case .connected:
            authorizationFailures.store(0, ordering: .relaxed)
            connections.add(1, ordering: .relaxed)
            log.info("connected", ["broker": "\(configuration.brokerHost):\(configuration.brokerPort)"])
            client?.publish(statusMessage(online: true))
            publishTelemetry()
        case .disconnected(let reason):
            log.warn("disconnected from the broker; reconnecting", ["reason": reason])
        case .connectionFailed(let reason):
            log.warn("cannot connect to the broker; retrying", ["reason": reason])
        case .notAuthorized(let reason):
            refusedByBroker(reason)
        case .subscriptionRefused(let topic):
            log.error("the broker refused a subscription", ["topic": topic])
        case .publishFailed(let topic, let reason):
            log.error("a message was dropped", ["topic": topic, "reason": reason])
        }
    }

    private static func startThread(_ name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.name = name
        thread.start()
    }
}
