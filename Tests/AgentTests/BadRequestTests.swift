import AgentHarness
import Foundation
import MQTT
import Protocol
import Testing

extension BrokerTests {
    /// Malformed, oversized and mistyped requests through the broker: each gets its error reply
    /// where the sender can hear it, and the agent goes on serving.
    @Suite struct BadRequests {
        @Test func everyBadRequestGetsItsErrorAndServingGoesOn() throws {
            try withHarness { harness in
                try harness.startAgent("d1") { configuration in
                    configuration.maxPromptBytes = 64
                    configuration.maxNewTokens = 32
                }
                let oversized = Array(#"{"id":"huge","prompt":""#.utf8) + [UInt8](repeating: 0x61, count: 70_000) + Array(#""}"#.utf8)
                let cases: [(payload: [UInt8], id: String?, code: String)] = [
                    (Array("not json at all".utf8), nil, "bad_request"),
                    ([0x7B, 0x22, 0x69, 0x64, 0x22, 0x3A, 0x22, 0xFF, 0x22, 0x7D], nil, "bad_request"),
                    (Array(#"[1,2]"#.utf8), nil, "bad_request"),
                    (Array(#"{"id":7,"prompt":"x"}"#.utf8), nil, "bad_request"),
                    (oversized, nil, "too_large"),
                    (Array(#"{"id":"e1","prompt":5}"#.utf8), "e1", "bad_request"),
                    (Array(#"{"id":"e2","prompt":"x","temperature":"warm"}"#.utf8), "e2", "bad_request"),
                    (Array(#"{"id":"e3","prompt":"x","max_tokens":33}"#.utf8), "e3", "too_large"),
                    (Array(#"{"id":"e4","prompt":"\#(String(repeating: "y", count: 65))"}"#.utf8), "e4", "too_large"),
                    (Array(#"{"id":"e5","prompt":"x"}"#.utf8) + [0], nil, "bad_request"),
                    (Array(#"{"id":"e6","messages":[{"role":"root","content":"x"}]}"#.utf8), "e6", "bad_request"),
                    (Array(#"{"id":"e7","prompt":"x","stream":1}"#.utf8), "e7", "bad_request"),
                    (Array(#"{"id":"e8","prompt":"x","extra":true}"#.utf8), "e8", "bad_request"),
                ]
                for (payload, id, code) in cases {
                    harness.client.publish("elutq/d1/prompt", bytes: payload)
                    let transcript = try harness.client.reply(id)
                    #expect(transcript.errorCode == code, "\(id ?? "unknown"): \(String(describing: transcript.error))")
                    #expect(transcript.messages.first?.topic == "elutq/d1/reply/\(id ?? "unknown")")
                    #expect(transcript.error?["error"]?["message"]?.string?.isEmpty == false)
                }
                harness.client.publish("elutq/d1/prompt", promptRequest("good", "Hello!", maxTokens: 8))
                #expect(try harness.client.reply("good").final != nil)
            }
        }
    }
}
