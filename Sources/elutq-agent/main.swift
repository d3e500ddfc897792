// elutq-agent: serves a model's prompts over MQTT until SIGTERM or SIGINT, or until it cannot go
// on (another agent took over its device id, the broker keeps refusing its credentials).
// Configuration: agent.conf (--config FILE) and --key value flags; see `elutq-agent --help`.
import Agent
import Foundation

TerminationSignals.block()

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.contains("--help") || arguments.contains("-h") {
    print(AgentConfiguration.usage, terminator: "")
    exit(0)
}
if arguments.contains("--version") {
    print(Agent.version)
    exit(0)
}

do {
    let agent = try Agent(configuration: try AgentConfiguration.load(arguments: arguments))
    Thread.detachNewThread { agent.exitRequest.post(.signal(TerminationSignals.wait())) }
    try agent.start()
    let reason = agent.exitRequest.wait()
    switch reason {
    case .signal(let name): agent.log.info("received \(name)")
    case .fatal(let message, _): FileHandle.standardError.write(Data("elutq-agent: \(message)\n".utf8))
    }
    agent.stop()
    exit(reason.status)
} catch {
    FileHandle.standardError.write(Data("elutq-agent: \(error)\n".utf8))
    exit(2)
}
