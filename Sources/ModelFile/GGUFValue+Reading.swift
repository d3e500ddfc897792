/// The type codes GGUF writes before each metadata value (`enum gguf_type` in ggml).
enum GGUFValueType: UInt32 {
    case uint8 = 0, int8, uint16, int16, uint32, int32, float32, bool, string, array, uint64, int64, float64

    /// The fewest bytes a value of this type can take, used to reject absurd array counts:
    /// a string is at least its 8-byte length, an array at least its type code and count.
    var minimumEncodedSize: Int {
        switch self {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64, .string: 8
        case .array: 12
        }
    }
}

/// How deep arrays of arrays may nest. Real files use at most one level; the limit keeps a
/// hostile file from recursing the parser off the end of its stack.
let maximumArrayNesting = 8

extension GGUFCursor {
    /// The metadata section: `count` pairs of key string, value type code, value.
    /// Returns the values by key, and the keys in file order.
    mutating func readMetadata(count: Int) throws(GGUFError) -> (values: [String: GGUFValue], keys: [String]) {
        var values: [String: GGUFValue] = [:]
        var keys: [String] = []
        values.reserveCapacity(count)
        keys.reserveCapacity(count)
        for index in 0..<count {
            let key = try readString("key of metadata entry \(index)")
            let rawType = try read(UInt32.self, "type of metadata key '\(key)'")
            guard let type = GGUFValueType(rawValue: rawType) else {
                throw .unknownValueType(what: "metadata key '\(key)'", rawType: rawType)
            }
            let value = try readValue(of: type, key: key, depth: 0)
            guard values.updateValue(value, forKey: key) == nil else { throw .duplicateKey(key) }
            keys.append(key)
        }
        return (values, keys)
    }

    /// One value of a known type; arrays recurse, `depth` counting how many enclose this one.
    mutating func readValue(of type: GGUFValueType, key: String, depth: Int) throws(GGUFError) -> GGUFValue {
        func what() -> String { "value of metadata key '\(key)'" }
        switch type {
        case .uint8: return .uint8(try read(UInt8.self, what()))
        case .int8: return .int8(try read(Int8.self, what()))
        case .uint16: return .uint16(try read(UInt16.self, what()))
        case .int16: return .int16(try read(Int16.self, what()))
        case .uint32: return .uint32(try read(UInt32.self, what()))
        case .int32: return .int32(try read(Int32.self, what()))
        case .uint64: return .uint64(try read(UInt64.self, what()))
        case .int64: return .int64(try read(Int64.self, what()))
        case .float32: return .float32(Float(bitPattern: try read(UInt32.self, what())))
        case .float64: return .float64(Double(bitPattern: try read(UInt64.self, what())))
        case .bool:
            let byte = try read(UInt8.self, what())
            guard byte <= 1 else { throw .invalidBool(key: key, byte: byte) }
            return .bool(byte == 1)
        case .string:
            return .string(try readString(what()))
        case .array:
            guard depth < maximumArrayNesting else { throw .arraysNestedTooDeep(key: key, limit: maximumArrayNesting) }
            let rawElementType = try read(UInt32.self, "element type of array '\(key)'")
            guard let elementType = GGUFValueType(rawValue: rawElementType) else {
                throw .unknownValueType(what: "array '\(key)'", rawType: rawElementType)
            }
            let count = try readCount("length of array '\(key)'", minimumSize: elementType.minimumEncodedSize)
            var items: [GGUFValue] = []
            items.reserveCapacity(count)
            for _ in 0..<count {
                items.append(try readValue(of: elementType, key: key, depth: depth + 1))
            }
            return .array(items)
        }
    }
}
