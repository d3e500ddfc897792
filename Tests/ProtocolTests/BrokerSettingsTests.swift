import Foundation
import MQTT
import Protocol
import Testing
import TestSupport

/// The broker's part of agent.conf, which `elutq --config` reads from a whole agent.conf.
@Suite struct BrokerSettingsTests {
    func read(_ text: String) throws -> BrokerSettings {
        try withTemporaryFile(Array(text.utf8)) { path in
            var settings = BrokerSettings()
            try settings.read(file: path)
            return settings
        }
    }

    @Test func theSampleGivesTheBrokerKeysAndTheAgentsOwnArePassedOver() throws {
        let settings = try read(try String(contentsOf: packageRoot.appendingPathComponent("agent.conf"), encoding: .utf8))
        #expect(settings == BrokerSettings())
    }

    @Test func brokerValuesAreCheckedAndTheRestLeftToTheAgent() throws {
        let settings = try read("broker_host = broker.lan\nthreads = not a number\ntopic_prefix = site/a\nqos = 0\n")
        #expect(settings.brokerHost == "broker.lan")
        #expect(settings.topicPrefix == "site/a")
        #expect(settings.qos == 0)
        #expect(throws: ConfigurationError.self) { try read("broker_port = 70000\n") }
        #expect(throws: ConfigurationError.self) { try read("topic_prefix = a/#\n") }
        #expect(throws: ConfigurationError.self) { try read("broker_host = a\nbroker_host = b\n") }
    }

    @Test func aClientCertificateNeedsItsKeyAndACA() throws {
        var settings = BrokerSettings()
        settings.tlsCertFile = "c.pem"
        #expect(throws: ConfigurationError.self) { try settings.validate() }
        settings.tlsKeyFile = "k.pem"
        #expect(throws: ConfigurationError.self) { try settings.validate() }
        settings.tlsCAFile = "ca.pem"
        try settings.validate()
        #expect(settings.mqttConfiguration(clientID: "x").tls == TLSFiles(caFile: "ca.pem", certificateFile: "c.pem", keyFile: "k.pem"))
    }
}
