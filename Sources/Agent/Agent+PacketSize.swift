import ModelPush
import Protocol

extension Agent {
    /// The largest MQTT packet the agent takes, declared to the broker when it connects (see
    /// `MQTTConfiguration.maximumPacketSize`): room for the largest request a prompt of
    /// `max_prompt_bytes` can need and for the largest push block, 64 KiB more for the topic and
    /// properties, and at least 1 MiB, so that a request somewhat over its limit still arrives and
    /// gets its too_large reply while a hostile 100 MB publish is dropped by the broker.
    static func maximumPacketSize(for limits: RequestLimits) -> UInt32 {
        let largest = max(limits.maxPayloadBytes, BlockMessage.headerSize + PushManifest.blockSizes.upperBound)
        return UInt32(min(max(1 << 20, largest + 64 * 1024), mqttLargestPacket))
    }

    /// MQTT's own limit: a fixed header of at most 5 bytes and a remaining length of at most
    /// 268 435 455.
    private static let mqttLargestPacket = 5 + 268_435_455
}
