import Protocol
import Testing

/// When a client waiting for an answer sends its request again.
@Suite struct ResendPolicyTests {
    let online: JSON = ["device": "d1", "online": true]
    let offline: JSON = ["device": "d1", "online": false]

    @Test func anOnlineStatusAlreadyThereIsNoNews() {
        var policy = ResendPolicy()
        let sends = [policy.sendsAgain(onStatus: online), policy.sendsAgain(onStatus: online)]
        #expect(sends == [false, false])
    }

    /// Once the request may have been lost, every online status is a moment to send it again.
    @Test func theDeviceComingBackAfterGoingOfflineSendsAgainEachTime() {
        var policy = ResendPolicy()
        let sends = [policy.sendsAgain(onStatus: offline), policy.sendsAgain(onStatus: online), policy.sendsAgain(onStatus: online)]
        #expect(sends == [false, true, true])
    }

    @Test func afterAReconnectionTheDeviceBackOnlineSendsAgain() {
        var policy = ResendPolicy()
        policy.clientReconnected()
        let sends = policy.sendsAgain(onStatus: online)
        #expect(sends)
    }

    @Test func aStatusWithoutOnlineChangesNothing() {
        var policy = ResendPolicy()
        let sends = [policy.sendsAgain(onStatus: ["device": "d1"]), policy.sendsAgain(onStatus: online)]
        #expect(sends == [false, false])
    }
}
