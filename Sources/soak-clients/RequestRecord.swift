import Foundation
import Protocol

/// What one soak request got back: every distinct final reply and every error, however late.
struct RequestRecord {
    let id: String
    let sentAt: Date
    /// Publishes of this request: the first and every copy sent again.
    var sends = 1
    /// The final replies, serialized. An answer the agent kept and sent again is the same bytes
    /// (timings included), so two members mean the request was generated twice.
    var finals: Set<String> = []
    var firstFinalAt: Date?
    /// Error codes, in arrival order.
    var errors: [String] = []

    init(id: String) {
        self.id = id
        sentAt = Date()
    }

    /// Its final reply or an error arrived: the client may go on to its next request.
    var isSettled: Bool { !finals.isEmpty || !errors.isEmpty }

    /// Files one reply addressed to this request; chunks only show that the answer is on its way.
    mutating func file(_ reply: JSON, payload: [UInt8]) {
        if reply["done"]?.bool == true {
            finals.insert(String(decoding: payload, as: UTF8.self))
            if firstFinalAt == nil { firstFinalAt = Date() }
        } else if let code = reply["error"]?["code"]?.string {
            errors.append(code)
        }
    }
}
