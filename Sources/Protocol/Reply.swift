import Runtime

/// One document published for a request: a chunk of streamed text, the final reply, or an error.
public enum Reply: Sendable {
    case chunk(seq: Int, text: String)
    case final(GenerationResult)
    case error(RequestError)

    /// The JSON document: `{id, seq, text}`; `{id, done: true, text, tokens_in, tokens_out, ttft_ms,
    /// tokens_per_s, finish_reason, model, model_sha256, device}`; or `{id, error: {code, message}, device}`.
    /// `id` is null for an error about a request whose id could not be read.
    public func document(id: String?, device: String, model: ModelIdentity) -> JSON {
        switch self {
        case .chunk(let seq, let text):
            return ["id": JSON(id), "seq": JSON(seq), "text": .string(text)]
        case .final(let result):
            return [
                "id": JSON(id), "done": true, "text": .string(result.text),
                "tokens_in": JSON(result.tokensIn), "tokens_out": JSON(result.tokensOut),
                "ttft_ms": JSON(Self.rounded(result.timeToFirstTokenSeconds * 1000)),
                "tokens_per_s": JSON(Self.rounded(result.tokensPerSecond)),
                "finish_reason": .string(result.finishReason.rawValue),
                "model": .string(model.name), "model_sha256": .string(model.sha256), "device": .string(device),
            ]
        case .error(let error):
            return [
                "id": JSON(id), "error": ["code": .string(error.code.rawValue), "message": .string(error.message)],
                "device": .string(device),
            ]
        }
    }

    /// `code: message` of an error reply, nil for any other reply: what `elutq` prints when a
    /// device refuses. The code is read as text, so a code newer than this client still shows.
    public static func errorText(of document: JSON) -> String? {
        guard let error = document["error"] else { return nil }
        return "\(error["code"]?.string ?? "error"): \(error["message"]?.string ?? "")"
    }

    /// Two decimals: timings are not more precise than that, and the JSON stays short.
    public static func rounded(_ value: Double) -> Double { (value * 100).rounded() / 100 }
}
