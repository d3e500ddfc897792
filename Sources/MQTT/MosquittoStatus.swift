import CMosquitto

/// libmosquitto's status codes in words. Its own `mosquitto_strerror` (2.0.11, Debian 12) has no
/// words for some of the newer codes: a keepalive timeout, the usual sign of a cut link, came out
/// as "Unknown error.".
enum MosquittoStatus {
    static func describe(_ status: Int32) -> String {
        switch status {
        case MOSQ_ERR_KEEPALIVE.rawValue: "no answer within the keepalive interval (the network to the broker may be down)"
        case MOSQ_ERR_TIMEOUT.rawValue: "timed out"
        case MOSQ_ERR_OVERSIZE_PACKET.rawValue: "a packet larger than the broker or this client allows"
        case MOSQ_ERR_MALFORMED_PACKET.rawValue: "a malformed packet"
        default: String(cString: mosquitto_strerror(status))
        }
    }
}
