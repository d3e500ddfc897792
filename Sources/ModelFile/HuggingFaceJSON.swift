import Foundation

/// Reads a JSON file of a checkpoint directory as `T`.
///
/// `JSONDecoder`'s own messages name Swift types; these name the file and the JSON key
/// (`config.json: 'hidden_size' is missing`), which is what someone fixing the file needs.
func decodeJSONFile<T: Decodable>(_: T.Type, at url: URL) throws(ModelSourceError) -> T {
    let data: Data
    do {
        data = try Data(contentsOf: url)
    } catch {
        throw .invalid("cannot read \(url.path): \(error.localizedDescription)")
    }
    do {
        return try JSONDecoder().decode(T.self, from: data)
    } catch {
        throw .invalid("\(url.lastPathComponent): \(describeDecodingError(error))")
    }
}

/// What a decoding failure found wrong, with the JSON path of the offending value.
func describeDecodingError(_ error: any Error) -> String {
    guard let error = error as? DecodingError else { return "\(error)" }
    switch error {
    case let .keyNotFound(key, context):
        return "'\(jsonPath(context.codingPath + [key]))' is missing"
    case let .valueNotFound(_, context):
        return "'\(jsonPath(context.codingPath))' is null"
    case let .typeMismatch(_, context), let .dataCorrupted(context):
        let at = context.codingPath.isEmpty ? "" : "'\(jsonPath(context.codingPath))': "
        return at + context.debugDescription
    @unknown default:
        return "\(error)"
    }
}

/// A coding path as JSON people write it: `rope_scaling.factor`, `model.merges[3]`.
private func jsonPath(_ keys: [any CodingKey]) -> String {
    var path = ""
    for key in keys {
        if let index = key.intValue {
            path += "[\(index)]"
        } else {
            path += path.isEmpty ? key.stringValue : ".\(key.stringValue)"
        }
    }
    return path
}

/// A key for JSON objects whose keys are data (tensor names), not a fixed schema.
struct JSONKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
