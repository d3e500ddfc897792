import Foundation
import MQTT
import Testing
import TestSupport

/// A TLS connection that fails says why: an unknown CA, a host name the certificate does not
/// list, a port that does not speak TLS, or, for a client without TLS, a port that does.
@Suite(.needs(.broker)) struct TLSConnectionTests {
    /// The first connection failure of a client of `port` on `host`, or nil once it connects.
    func failure(host: String = "127.0.0.1", port: Int, caFile: String?) throws -> String? {
        var settings = MQTTConfiguration(host: host, port: port, clientID: "tls-\(UUID().uuidString.prefix(8))")
        settings.tls = caFile.map { TLSFiles(caFile: $0) }
        let events = EventLog()
        let client = try MQTTClient(configuration: settings, onMessage: { _ in }, onEvent: events.append)
        defer { client.stop() }
        client.start()
        try waitUntil("the client of \(host):\(port) with CA \(caFile ?? "none") connects or fails") {
            events.firstFailure != nil || events.count(of: .connected) > 0
        }
        return events.firstFailure
    }

    @Test func theRightCAConnectsAndAnUnknownOneIsNamed() throws {
        let certificates = try TestCertificates(names: ["127.0.0.1"])
        let broker = try MosquittoBroker(certificates: certificates)
        #expect(try failure(port: broker.port, caFile: certificates.caFile) == nil)
        let unknownCA = try failure(port: broker.port, caFile: certificates.otherCAFile)
        #expect(unknownCA?.contains("unknown CA") == true, "\(unknownCA ?? "connected")")
    }

    @Test func aPlainClientOnATLSPortIsToldSo() throws {
        let certificates = try TestCertificates(names: ["127.0.0.1"])
        let broker = try MosquittoBroker(certificates: certificates)
        let plainClient = try failure(port: broker.port, caFile: nil)
        #expect(plainClient?.contains("TLS listener") == true, "\(plainClient ?? "connected")")
    }

    @Test func aTLSClientOnAPlainPortIsToldSo() throws {
        let certificates = try TestCertificates(names: ["127.0.0.1"])
        let plainBroker = try MosquittoBroker()
        let notTLS = try failure(port: plainBroker.port, caFile: certificates.caFile)
        #expect(notTLS?.contains("not a TLS server") == true, "\(notTLS ?? "connected")")
    }

    @Test func aCertificateForAnotherHostIsAHostnameMismatch() throws {
        let certificates = try TestCertificates(names: ["broker.example.org"])
        let broker = try MosquittoBroker(certificates: certificates)
        let mismatch = try failure(port: broker.port, caFile: certificates.caFile)
        #expect(mismatch?.contains("hostname mismatch") == true, "\(mismatch ?? "connected")")
    }
}
