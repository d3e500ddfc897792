import Protocol
import Testing

/// When a client waiting for an answer sends its request again.
@Suite struct ResendPolicyTests {
    @Test func anOnlineStatusAlreadyThereIsNoNews() {
        var policy = ResendPolicy()
        #expect(!policy.deviceStatus(online: true))
        #expect(!policy.deviceStatus(online: true))
    }

    @Test func theDeviceComingBackAfterGoingOfflineSendsAgainEachTime() {
        var policy = ResendPolicy()
        #expect(!policy.deviceStatus(online: false))
        #expect(policy.deviceStatus(online: true))
        // Once it may have been lost, every later online status is a moment to send again.
        #expect(policy.deviceStatus(online: true))
    }

    @Test func aReconnectionSendsAgainAtOnceAndWhenTheDeviceIsBack() {
        var policy = ResendPolicy()
        #expect(policy.clientReconnected())
        #expect(policy.deviceStatus(online: true))
    }
}
