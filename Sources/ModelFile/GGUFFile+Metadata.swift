/// Typed metadata lookups, each returning nil when the key is missing or holds another kind of value.
///
/// These go through `GGUFValue`'s converting accessors, so `int` finds a count whether the
/// converter wrote it as `uint32` or `int64`.
extension GGUFFile {
    public func string(_ key: String) -> String? { metadata[key]?.stringValue }
    public func int(_ key: String) -> Int? { metadata[key]?.intValue }
    public func float(_ key: String) -> Float? { metadata[key]?.floatValue }
    public func bool(_ key: String) -> Bool? { metadata[key]?.boolValue }

    /// An array whose every item is a string (a vocabulary, its merges).
    public func stringArray(_ key: String) -> [String]? { array(key, \.stringValue) }
    /// An array whose every item is an integer that fits in `Int` (token types, ids).
    public func intArray(_ key: String) -> [Int]? { array(key, \.intValue) }
    /// An array whose every item is a float (token scores).
    public func floatArray(_ key: String) -> [Float]? { array(key, \.floatValue) }

    private func array<T>(_ key: String, _ convert: (GGUFValue) -> T?) -> [T]? {
        guard let items = metadata[key]?.arrayValue else { return nil }
        var result: [T] = []
        result.reserveCapacity(items.count)
        for item in items {
            guard let converted = convert(item) else { return nil }
            result.append(converted)
        }
        return result
    }
}
