import Protocol
import Testing

/// When a client waiting for an answer sends its request again.
@Suite struct ResendPolicyTests {
    @Test func anOnlineStatusAlreadyThereIsNoNews() {
        var policy = ResendPolicy()
        let sends = [policy.deviceStatus(online: true), policy.deviceStatus(online: true)]
        #expect(sends == [false, false])
    }

    /// Once the request may have been lost, every online status is a moment to send it again.
    @Test func theDeviceComingBackAfterGoingOfflineSendsAgainEachTime() {
        var policy = ResendPolicy()
        let sends = [policy.deviceStatus(online: false), policy.deviceStatus(online: true), policy.deviceStatus(online: true)]
        #expect(sends == [false, true, true])
    }

    @Test func aReconnectionSendsAgainAtOnceAndWhenTheDeviceIsBack() {
        var policy = ResendPolicy()
        let sends = [policy.clientReconnected(), policy.deviceStatus(online: true)]
        #expect(sends == [true, true])
    }
}
