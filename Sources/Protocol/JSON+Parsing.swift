import CJSONC

/// Why some bytes are not one JSON document.
public enum JSONParseError: Error, Equatable, CustomStringConvertible {
    /// The bytes are not UTF-8, which JSON text must be.
    case invalidUTF8
    /// json-c's description of the syntax error.
    case syntax(String)
    /// A complete document followed by more than whitespace.
    case trailingCharacters
    /// Arrays and objects nested deeper than `JSON.maximumDepth`.
    case tooDeep

    public var description: String {
        switch self {
        case .invalidUTF8: "not valid UTF-8"
        case .syntax(let reason): "not JSON (\(reason))"
        case .trailingCharacters: "not JSON (extra characters after the document)"
        case .tooDeep: "nested deeper than \(JSON.maximumDepth) levels"
        }
    }
}

extension JSON {
    /// Nesting limit for documents from the network: deep enough for any request, shallow enough
    /// that json-c's recursive parser and our recursive conversion stay far from the stack limit.
    public static let maximumDepth: Int32 = 32

    /// Parses one complete JSON document, in json-c's strict mode (no comments, no trailing commas,
    /// though it does take single-quoted strings). A `\u` escape of a lone surrogate becomes U+FFFD.
    public init(parsing bytes: [UInt8]) throws(JSONParseError) {
        // Checked here rather than by json-c so the error can say exactly what is wrong.
        guard String(validating: bytes, as: UTF8.self) != nil else { throw .invalidUTF8 }
        guard let tokener = json_tokener_new_ex(Self.maximumDepth) else { throw .syntax("out of memory") }
        defer { json_tokener_free(tokener) }
        json_tokener_set_flags(tokener, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8)
        // The terminating NUL tells json-c the input ends here, so a bare number is complete.
        let terminated = bytes + [0]
        let root = terminated.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { json_tokener_parse_ex(tokener, $0.baseAddress, Int32($0.count)) }
        }
        let status = json_tokener_get_error(tokener)
        guard let root, status == json_tokener_success else {
            if status == json_tokener_error_depth { throw .tooDeep }
            throw .syntax(String(cString: json_tokener_error_desc(status)))
        }
        defer { json_object_put(root) }
        if json_tokener_get_parse_end(tokener) < bytes.count { throw .trailingCharacters }
        self = try JSON(converting: root)
    }

    /// Copies a json-c tree into Swift values.
    private init(converting object: OpaquePointer?) throws(JSONParseError) {
        switch json_object_get_type(object) {
        case json_type_null:
            self = .null
        case json_type_boolean:
            self = .bool(json_object_get_boolean(object) != 0)
        case json_type_int:
            self = .int(json_object_get_int64(object))
        case json_type_double:
            self = .double(json_object_get_double(object))
        case json_type_string:
            self = .string(Self.string(of: object))
        case json_type_array:
            var elements: [JSON] = []
            let count = json_object_array_length(object)
            elements.reserveCapacity(count)
            for index in 0..<count {
                elements.append(try JSON(converting: json_object_array_get_idx(object, index)))
            }
            self = .array(elements)
        case json_type_object:
            var members: [String: JSON] = [:]
            var iterator = json_object_iter_begin(object)
            var end = json_object_iter_end(object)
            while json_object_iter_equal(&iterator, &end) == 0 {
                let key = String(cString: json_object_iter_peek_name(&iterator))
                members[key] = try JSON(converting: json_object_iter_peek_value(&iterator))
                json_object_iter_next(&iterator)
            }
            self = .object(members)
        default:
            self = .null
        }
    }

    /// A json-c string by its length, since `\u0000` may sit inside it.
    private static func string(of object: OpaquePointer?) -> String {
        let length = Int(json_object_get_string_len(object))
        guard let start = json_object_get_string(object) else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: start, count: length), as: UTF8.self)
    }
}
