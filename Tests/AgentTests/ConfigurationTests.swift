import Foundation
import Protocol
import Testing
import TestSupport

@testable import Agent

/// agent.conf and the flags that override it.
@Suite struct ConfigurationTests {
    func read(_ text: String) throws(ConfigurationError) -> AgentConfiguration {
        var configuration = AgentConfiguration()
        try configuration.read(text, file: "agent.conf")
        return configuration
    }

    func error(_ text: String) -> ConfigurationError? {
        do {
            _ = try read(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func theSampleParsesAndDocumentsEveryKey() throws {
        let text = try String(contentsOf: packageRoot.appendingPathComponent("agent.conf"), encoding: .utf8)
        let configuration = try read(text)
        #expect(configuration.brokerPort == 1883)
        #expect(configuration.model == ".cache/models/smollm2-135m.hlq")
        #expect(configuration.group == nil)
        #expect(text.contains("\n#tables = \(AgentConfiguration().tables.rawValue)\n"), "the sample shows the default tables")
        #expect(try read("tables = mixed").tables == .mixed && (try read("tables = int8").tables) == .int8)
        for key in AgentConfiguration.keys {
            #expect(text.contains("\n\(key.name) =") || text.contains("\n#\(key.name) ="), "agent.conf does not show \(key.name)")
        }
    }

    @Test func readsValuesCommentsAndEmptyOptionals() throws {
        let configuration = try read("""
            # a comment
            broker_host = broker.lan

              broker_port=8883
            password = p#ss=word
            group = kitchen
            tls_ca_file =
            temperature = 0.2
            log_level = debug
            """)
        #expect(configuration.brokerHost == "broker.lan")
        #expect(configuration.brokerPort == 8883)
        #expect(configuration.password == "p#ss=word")
        #expect(configuration.group == "kitchen")
        #expect(configuration.tlsCAFile == nil)
        #expect(configuration.temperature == 0.2)
        #expect(configuration.logLevel == .debug)
    }

    @Test func unknownKeyNamesItsLine() {
        let problem = error("broker_host = a\n\n# fine\nbroker_prot = 1883\n")
        #expect(problem?.line == 4)
        #expect(problem?.description == "agent.conf:4: unknown key \"broker_prot\"")
    }

    @Test func badValuesNameTheirLine() {
        let cases: [(String, Int, String)] = [
            ("broker_port = 70000", 1, "broker_port must be between 1 and 65535"),
            ("\nthreads = two", 2, "threads must be a whole number"),
            ("temperature = hot", 1, "temperature must be a number"),
            ("\n\nlog_level = loud", 3, "log_level must be debug, info, warn or error"),
            ("device_id = a/b", 1, "device_id must be"),
            ("topic_prefix = $SYS", 1, "topic_prefix must be"),
            ("broker_host =", 1, "broker_host must not be empty"),
            ("just words", 1, "expected `key = value`"),
            ("qos = 1\nqos = 2", 2, "qos is already set on line 1"),
        ]
        for (text, line, message) in cases {
            let problem = error(text)
            #expect(problem?.line == line, "\(text)")
            #expect(problem?.message.contains(message) == true, "\(text): \(problem?.message ?? "no error")")
        }
    }

    @Test func flagsOverrideTheFile() throws {
        try withTemporaryDirectory { directory in
            let file = directory.appendingPathComponent("agent.conf")
            try "broker_host = from-file\nbroker_port = 1884\ndevice_id = file-device\n".write(to: file, atomically: true, encoding: .utf8)
            let configuration = try AgentConfiguration.load(arguments: [
                "--broker-port", "2000", "--config", file.path, "--device-id=flag-device", "--queue-length", "9",
            ])
            #expect(configuration.brokerHost == "from-file")
            #expect(configuration.brokerPort == 2000)
            #expect(configuration.deviceID == "flag-device")
            #expect(configuration.queueLength == 9)
        }
    }

    @Test func badFlagsAreNamed() {
        #expect(throws: ConfigurationError(location: "--no-such-key", line: nil, message: "unknown key \"no_such_key\"")) {
            try AgentConfiguration.load(arguments: ["--no-such-key", "1"])
        }
        #expect(throws: ConfigurationError(location: "--broker-port", line: nil, message: "needs a value")) {
            try AgentConfiguration.load(arguments: ["--broker-port"])
        }
        #expect(throws: ConfigurationError.self) { try AgentConfiguration.load(arguments: ["--qos", "3"]) }
        #expect(throws: ConfigurationError.self) { try AgentConfiguration.load(arguments: ["--config", "/no/such/agent.conf"]) }
    }

    @Test func tlsFilesMustFitTogether() {
        #expect(throws: ConfigurationError.self) { try AgentConfiguration.load(arguments: ["--tls-cert-file", "c.pem"]) }
        #expect(throws: ConfigurationError.self) {
            try AgentConfiguration.load(arguments: ["--tls-cert-file", "c.pem", "--tls-key-file", "k.pem"])
        }
        #expect(throws: Never.self) {
            try AgentConfiguration.load(arguments: ["--tls-ca-file", "ca.pem", "--tls-cert-file", "c.pem", "--tls-key-file", "k.pem"])
        }
    }

    @Test func thePasswordComesFromTheFlagTheFileOrTheEnvironmentInThatOrder() throws {
        try withTemporaryDirectory { directory in
            let file = directory.appendingPathComponent("password").path
            try "from file\nsecond line\n".write(toFile: file, atomically: true, encoding: .utf8)
            let environment = ["ELUTQ_MQTT_PASSWORD": "from environment"]
            let fromFile = try AgentConfiguration.load(arguments: ["--username", "u", "--password-file", file], environment: environment)
            #expect(fromFile.broker.password == "from file")
            #expect(fromFile.broker.passwordFile == file)
            #expect(try AgentConfiguration.load(arguments: ["--username", "u"], environment: environment).broker.password == "from environment")
            #expect(try AgentConfiguration.load(arguments: ["--username", "u", "--password", "flag"], environment: environment).broker.password == "flag")
            #expect(try AgentConfiguration.load(arguments: [], environment: [:]).broker.password == nil)
            #expect(throws: ConfigurationError.self, "a password without a user") {
                try AgentConfiguration.load(arguments: ["--password", "p"], environment: [:])
            }
            #expect(throws: ConfigurationError.self, "a missing file") {
                try AgentConfiguration.load(arguments: ["--username", "u", "--password-file", file + ".missing"], environment: [:])
            }
        }
    }

    @Test func secretFilesOthersCanReadAreListed() throws {
        try withTemporaryDirectory { directory in
            let password = directory.appendingPathComponent("password").path
            try "p\n".write(toFile: password, atomically: true, encoding: .utf8)
            let conf = directory.appendingPathComponent("agent.conf").path
            try "username = u\npassword = p\n".write(toFile: conf, atomically: true, encoding: .utf8)
            chmod(password, 0o600)
            chmod(conf, 0o640)
            #expect(try AgentConfiguration.load(arguments: ["--username", "u", "--password-file", password]).secretsReadableByOthers.isEmpty)
            #expect(try AgentConfiguration.load(arguments: ["--config", conf]).secretsReadableByOthers.isEmpty)
            chmod(password, 0o644)
            chmod(conf, 0o644)
            #expect(try AgentConfiguration.load(arguments: ["--username", "u", "--password-file", password]).secretsReadableByOthers == [password])
            #expect(try AgentConfiguration.load(arguments: ["--config", conf]).secretsReadableByOthers == [conf])
            // A readable agent.conf that only mentions passwords, the password coming from the environment.
            let mentions = directory.appendingPathComponent("mentions.conf").path
            try "username = u\n# the password comes from ELUTQ_MQTT_PASSWORD\npassword =\n".write(toFile: mentions, atomically: true, encoding: .utf8)
            chmod(mentions, 0o644)
            let fromEnvironment = try AgentConfiguration.load(arguments: ["--config", mentions], environment: ["ELUTQ_MQTT_PASSWORD": "p"])
            #expect(fromEnvironment.broker.password == "p")
            #expect(fromEnvironment.secretsReadableByOthers.isEmpty)
        }
    }

    @Test func theDefaultDeviceIDAddsTheMachineID() throws {
        try withTemporaryDirectory { directory in
            let machineID = directory.appendingPathComponent("machine-id").path
            try "3F9A1C0b8e2d4c6a9f1e2d3c4b5a6978\n".write(toFile: machineID, atomically: true, encoding: .utf8)
            let host = AgentConfiguration.hostName()
            #expect(AgentConfiguration.defaultDeviceID(machineIDFiles: [machineID]) == "\(host.prefix(57))-3f9a1c")
            #expect(AgentConfiguration.defaultDeviceID(machineIDFiles: [directory.appendingPathComponent("none").path]) == host)
            #expect(Topics.isIdentifier(AgentConfiguration.defaultDeviceID()))
        }
    }
}
