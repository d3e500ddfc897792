import Synchronization

/// A flag one thread raises and another notices: the end of the soak, or a reconnection.
final class Flag: Sendable {
    private let value = Atomic(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
    /// Whether it was raised, lowering it again.
    func take() -> Bool { value.exchange(false, ordering: .relaxed) }
}
