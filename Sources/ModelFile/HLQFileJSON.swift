import Foundation

/// The JSON conventions of the metadata and directory sections, shared by reader and writer.
///
/// Keys are sorted so the same model always gives the same bytes, dates are ISO 8601 text, and
/// slashes are left unescaped so the tokenizer's strings read as themselves.
enum HLQFileJSON {
    static func encode(_ value: some Encodable, as section: HLQFileError.Section) throws(HLQFileError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        do {
            return try encoder.encode(value)
        } catch {
            throw .cannotEncode(section, reason: String(describing: error))
        }
    }

    /// Decodes `bytes` after checking them against `checksum`: a section that is corrupt but
    /// still parses must not be believed.
    static func decode<T: Decodable>(_: T.Type, from bytes: UnsafeRawBufferPointer, as section: HLQFileError.Section,
                                     checksum: UInt32) throws(HLQFileError) -> T {
        let computed = CRC32C.checksum(bytes)
        guard computed == checksum else { throw .sectionChecksumMismatch(section, stored: checksum, computed: computed) }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do {
            return try decoder.decode(T.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw .invalidJSON(section, reason: describe(error))
        } catch {
            throw .invalidJSON(section, reason: String(describing: error))
        }
    }

    /// "at tensors[3].type.kind: unknown tensor kind 'q4' ...": where the problem is, then what it is.
    private static func describe(_ error: DecodingError) -> String {
        let context: DecodingError.Context
        switch error {
        case let .dataCorrupted(c), let .keyNotFound(_, c), let .typeMismatch(_, c), let .valueNotFound(_, c):
            context = c
        @unknown default:
            return String(describing: error)
        }
        var path = ""
        for key in context.codingPath {
            if let index = key.intValue { path += "[\(index)]" } else { path += (path.isEmpty ? "" : ".") + key.stringValue }
        }
        if case let .keyNotFound(key, _) = error {
            path += (path.isEmpty ? "" : ".") + key.stringValue
            return "\(path) is missing"
        }
        return path.isEmpty ? context.debugDescription : "at \(path): \(context.debugDescription)"
    }
}
