/// One metadata value from a GGUF file, keeping the exact type the file stored it with.
///
/// Writers are not consistent about widths (one converter stores `block_count` as `uint32`,
/// another as `int64`), so the `…Value` accessors convert between compatible types and
/// readers should prefer them, or `GGUFFile`'s typed helpers, over matching cases.
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8)
    case int8(Int8)
    case uint16(UInt16)
    case int16(Int16)
    case uint32(UInt32)
    case int32(Int32)
    case uint64(UInt64)
    case int64(Int64)
    case float32(Float)
    case float64(Double)
    case bool(Bool)
    case string(String)
    /// GGUF arrays are homogeneous, and may hold arrays.
    case array([GGUFValue])

    /// Any integer case, if its value fits in `Int`.
    public var intValue: Int? {
        switch self {
        case let .uint8(v): Int(v)
        case let .int8(v): Int(v)
        case let .uint16(v): Int(v)
        case let .int16(v): Int(v)
        case let .uint32(v): Int(v)
        case let .int32(v): Int(v)
        case let .uint64(v): Int(exactly: v)
        case let .int64(v): Int(v)
        default: nil
        }
    }

    /// Either float case; a `float64` is rounded to the nearest `Float`.
    public var floatValue: Float? {
        switch self {
        case let .float32(v): v
        case let .float64(v): Float(v)
        default: nil
        }
    }

    public var boolValue: Bool? {
        if case let .bool(v) = self { v } else { nil }
    }

    public var stringValue: String? {
        if case let .string(v) = self { v } else { nil }
    }

    public var arrayValue: [GGUFValue]? {
        if case let .array(v) = self { v } else { nil }
    }
}

extension GGUFValue: CustomStringConvertible {
    /// The value as a person would write it; long arrays show their first few items and their length.
    public var description: String {
        switch self {
        case let .uint8(v): "\(v)"
        case let .int8(v): "\(v)"
        case let .uint16(v): "\(v)"
        case let .int16(v): "\(v)"
        case let .uint32(v): "\(v)"
        case let .int32(v): "\(v)"
        case let .uint64(v): "\(v)"
        case let .int64(v): "\(v)"
        case let .float32(v): "\(v)"
        case let .float64(v): "\(v)"
        case let .bool(v): "\(v)"
        case let .string(v): v.debugDescription
        case let .array(items) where items.count > 8:
            "[" + items.prefix(4).map(\.description).joined(separator: ", ") + ", … (\(items.count) items)]"
        case let .array(items):
            "[" + items.map(\.description).joined(separator: ", ") + "]"
        }
    }
}
