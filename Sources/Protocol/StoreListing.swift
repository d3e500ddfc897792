/// A device's model store as a model command's answer shows it: every stored model, and the one served.
public struct StoreListing: Sendable, Equatable {
    /// One stored model.
    public struct Model: Sendable, Equatable {
        public var name: String
        public var size: Int
        public var sha256: String
        /// Whether this is the file being served.
        public var active: Bool

        public init(name: String, size: Int, sha256: String, active: Bool) {
            self.name = name
            self.size = size
            self.sha256 = sha256
            self.active = active
        }
    }

    public var models: [Model]
    /// The model served: possibly none of the stored ones (agent.conf's `model`).
    public var active: ModelIdentity

    public init(models: [Model], active: ModelIdentity) {
        self.models = models
        self.active = active
    }

    /// The answer to model command `id`: `{id, done: true, device, models: [{name, size, sha256,
    /// active}], active: {name, sha256}}`. A refused command gets a `Reply.error` instead.
    public func document(id: String, device: String) -> JSON {
        let models = models.map { model -> JSON in
            ["name": .string(model.name), "size": JSON(model.size), "sha256": .string(model.sha256), "active": .bool(model.active)]
        }
        return [
            "id": .string(id), "done": true, "device": .string(device),
            "models": .array(models), "active": ["name": .string(active.name), "sha256": .string(active.sha256)],
        ]
    }
}
