import Foundation
import Protocol

/// The soak's count of what became of every request, as the clients saw it.
struct SoakTally {
    var sent = 0
    var answeredOnce = 0
    var answeredTwice: [String] = []
    var errored: [String: Int] = [:]
    var neverAnswered: [String] = []
    /// Requests published more than once (a copy sent again after a fault).
    var sentAgain = 0
    /// Seconds from the first publish to the first final reply, of the answered requests.
    var answerSeconds: [Double] = []

    init(_ records: some Sequence<RequestRecord>) {
        for record in records {
            sent += 1
            if record.sends > 1 { sentAgain += 1 }
            if let answeredAt = record.firstFinalAt { answerSeconds.append(answeredAt.timeIntervalSince(record.sentAt)) }
            switch (record.finals.count, record.errors.first) {
            case (2..., _): answeredTwice.append(record.id)
            case (1, _): answeredOnce += 1
            case (_, let code?): errored[code, default: 0] += 1
            default: neverAnswered.append(record.id)
            }
        }
        answerSeconds.sort()
    }

    /// The soak's report, for `clients` clients.
    func document(clients: Int) -> JSON {
        func quantile(_ q: Double) -> JSON {
            answerSeconds.isEmpty ? .null : JSON(Reply.rounded(answerSeconds[Int(q * Double(answerSeconds.count - 1))]))
        }
        return ["clients": JSON(clients), "sent": JSON(sent), "answered_once": JSON(answeredOnce), "answered_twice": JSON(answeredTwice.count),
                "errored": .object(errored.mapValues { JSON($0) }), "never_answered": JSON(neverAnswered.count),
                "sent_again": JSON(sentAgain),
                "answer_seconds": ["p50": quantile(0.5), "p95": quantile(0.95), "max": quantile(1)],
                "answered_twice_ids": .array(answeredTwice.sorted().map(JSON.string)),
                "never_answered_ids": .array(neverAnswered.sorted().map(JSON.string))]
    }
}
