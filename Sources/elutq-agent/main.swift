// elutq-agent: serves a model's prompts over MQTT until SIGTERM or SIGINT.
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
    try agent.start()
    let signal = TerminationSignals.wait()
    agent.log.info("received \(signal)")
    agent.stop()
    exit(0)
} catch {
    FileHandle.standardError.write(Data("elutq-agent: \(error)\n".utf8))
    exit(2)
}
