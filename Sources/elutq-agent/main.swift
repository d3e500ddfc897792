// elutq-agent: serves a model's prompts over MQTT until SIGTERM or SIGINT, or until it cannot go
// on (another agent took over its device id, the broker keeps refusing its credentials).
// Configuration: agent.conf (--config FILE) and --key value flags; see `elutq-agent --help`.
import Agent
import Foundation
#if os(Linux)
import CMalloc
#endif

TerminationSignals.block()

#if os(Linux)
// A daemon's memory must stay flat. By default glibc gives each thread that allocates an arena of
// its own and keeps what is freed there, and it raises its mmap threshold after the first large
// free, so the 256 KiB blocks of a model push end up in arenas that never shrink: measured, an
// agent's anonymous memory grew by 23 MB over three pushes. One arena and a fixed threshold (large
// buffers mapped and unmapped) keep it to 3.9 MB after the first push and flat after it.
mallopt(M_ARENA_MAX, 1)
mallopt(M_MMAP_THRESHOLD, 128 * 1024)
#endif

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
