import AgentHarness
import Foundation
import Glibc
import Testing
import TestSupport

extension BrokerTests {
    /// A broker that asks for a password: wrong credentials stop the agent with the reason after
    /// a bounded number of tries, and the password can come from a file or the environment
    /// instead of the command line.
    @Suite struct BrokerCredentials {
        func agentArguments(_ broker: MosquittoBroker, _ extra: [String]) throws -> [String] {
            ["--broker-host", "127.0.0.1", "--broker-port", String(broker.port), "--device-id", "locked",
             "--model", try realModelPath(), "--threads", "1", "--context-size", "256", "--log-level", "info"] + extra
        }

        @Test(.needs(.executables)) func wrongCredentialsStopTheAgentWithTheReason() throws {
            let broker = try MosquittoBroker(users: ["device": "right horse battery"])
            let agent = try launch("elutq-agent", try agentArguments(broker, ["--username", "device", "--password", "wrong"]))
            defer { kill(agent.process.processIdentifier, SIGKILL) }
            #expect(try agent.waitForExit() == 1)
            let log = agent.stderr()
            #expect(log.contains("refused this agent 5 times in a row"), "\(log)")
            #expect(log.contains("Not authorized"), "\(log)")
            #expect(!log.contains("network protocol error"), "the refusal is not reported as a network failure")

            // The CLI names the refusal too, instead of "cannot reach".
            let models = try run("elutq", ["models", "--device", "locked", "--host", "127.0.0.1", "--port", String(broker.port),
                                            "--username", "device", "--password", "wrong", "--timeout", "5"])
            #expect(models.status != 0 && models.stderr.contains("refused by the broker: Not authorized"), "\(models.stderr)")
        }

        @Test(.needs(.executables)) func thePasswordComesFromAFileOrTheEnvironment() throws {
            let broker = try MosquittoBroker(users: ["device": "right horse battery"])
            let file = broker.directory.appendingPathComponent("mqtt-password").path
            try "right horse battery\n".write(toFile: file, atomically: true, encoding: .utf8)
            chmod(file, 0o644)
            let fromFile = try launch("elutq-agent", try agentArguments(broker, ["--username", "device", "--password-file", file]))
            defer { kill(fromFile.process.processIdentifier, SIGKILL) }
            try waitUntil("the agent connects with the password file") { fromFile.stderr().contains("msg=connected") }
            #expect(fromFile.stderr().contains("readable by every user"), "a 0644 password file is warned about")
            kill(fromFile.process.processIdentifier, SIGTERM)
            #expect(try fromFile.waitForExit() == 0)

            let fromEnvironment = try launch("elutq-agent", try agentArguments(broker, ["--username", "device"]),
                                             environment: ["ELUTQ_MQTT_PASSWORD": "right horse battery"])
            defer { kill(fromEnvironment.process.processIdentifier, SIGKILL) }
            try waitUntil("the agent connects with the password from the environment") { fromEnvironment.stderr().contains("msg=connected") }
            #expect(!fromEnvironment.stderr().contains("readable by every user"))
        }
    }
}
