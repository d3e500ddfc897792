/// The JSON header of a safetensors file, decoded but not yet checked against the file.
///
/// It is one object. Every key but `__metadata__` names a tensor and maps to its `dtype`,
/// `shape` and `data_offsets`, the [begin, end) of its bytes relative to the data section
/// that follows the header; `__metadata__`, if present, maps strings to strings.
struct SafetensorsHeader: Decodable {
    struct Entry: Decodable {
        let dtype: String
        let shape: [Int]
        let dataOffsets: [Int]

        enum CodingKeys: String, CodingKey {
            case dtype, shape
            case dataOffsets = "data_offsets"
        }
    }

    let entries: [String: Entry]
    let metadata: [String: String]

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: JSONKey.self)
        var entries: [String: Entry] = [:]
        var metadata: [String: String] = [:]
        for key in container.allKeys {
            if key.stringValue == "__metadata__" {
                metadata = try container.decode([String: String].self, forKey: key)
            } else {
                entries[key.stringValue] = try container.decode(Entry.self, forKey: key)
            }
        }
        self.entries = entries
        self.metadata = metadata
    }
}
