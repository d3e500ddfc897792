/// The newest `capacity` elements appended, oldest first: what keeps a monitor that runs for
/// months at the memory it had after its first hour.
public struct BoundedHistory<Element: Sendable>: Sendable {
    public let capacity: Int
    private var storage: [Element] = []
    /// Where the oldest element sits once the storage is full; the next append overwrites it.
    private var start = 0

    public init(capacity: Int) {
        precondition(capacity > 0, "a history holds at least one element")
        self.capacity = capacity
        storage.reserveCapacity(capacity)
    }

    public var count: Int { storage.count }
    public var first: Element? { storage.isEmpty ? nil : storage[start] }
    public var last: Element? { storage.isEmpty ? nil : storage[(start + storage.count - 1) % storage.count] }

    /// The elements, oldest first.
    public var elements: [Element] { Array(storage[start...] + storage[..<start]) }

    /// Appends `element`, dropping the oldest when the history is full.
    public mutating func append(_ element: Element) {
        if storage.count < capacity {
            storage.append(element)
        } else {
            storage[start] = element
            start = (start + 1) % capacity
        }
    }

    /// Drops the oldest elements for as long as `isStale` holds for them. Called on every append,
    /// so it returns at once when the oldest is still fresh.
    public mutating func dropOldest(while isStale: (Element) -> Bool) {
        guard let oldest = first, isStale(oldest) else { return }
        storage = Array(elements.drop(while: isStale))
        start = 0
    }
}
