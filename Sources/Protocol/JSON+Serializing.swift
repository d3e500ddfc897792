import CJSONC

extension JSON {
    /// Compact JSON text with object keys sorted, so the same value always prints the same bytes.
    public var serialized: String {
        let root = makeObject()
        defer { json_object_put(root) }
        var length = 0
        let flags = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE
        guard let text = json_object_to_json_string_length(root, flags, &length) else { return "null" }
        return String(decoding: UnsafeRawBufferPointer(start: text, count: length), as: UTF8.self)
    }

    /// The UTF-8 bytes of `serialized`, ready to be an MQTT payload.
    public var bytes: [UInt8] { Array(serialized.utf8) }

    /// A new json-c tree holding this value; the caller owns the reference.
    private func makeObject() -> OpaquePointer? {
        switch self {
        case .null:
            return nil
        case .bool(let value):
            return json_object_new_boolean(value ? 1 : 0)
        case .int(let value):
            return json_object_new_int64(value)
        case .double(let value):
            guard value.isFinite else { return nil }
            // Swift's shortest round-trip spelling: json-c's own "%.17g" would print 0.1 as 0.10000000000000001.
            return json_object_new_double_s(value, value.description)
        case .string(let value):
            if value.isEmpty { return json_object_new_string("") }
            let utf8 = Array(value.utf8)
            return utf8.withUnsafeBufferPointer { bytes in
                bytes.withMemoryRebound(to: CChar.self) { json_object_new_string_len($0.baseAddress, Int32($0.count)) }
            }
        case .array(let elements):
            let array = json_object_new_array_ext(Int32(elements.count))
            for element in elements { json_object_array_add(array, element.makeObject()) }
            return array
        case .object(let members):
            let object = json_object_new_object()
            for key in members.keys.sorted() { json_object_object_add(object, key, members[key]!.makeObject()) }
            return object
        }
    }
}
