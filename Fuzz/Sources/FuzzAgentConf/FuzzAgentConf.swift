import Agent
import Protocol

/// agent.conf as the daemon reads it: every line's key and value checked over the defaults, then
/// the settings that only make sense together.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var configuration = defaults
    do {
        try configuration.read(String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self), file: "agent.conf")
        try configuration.broker.validate()
    } catch {}
    return 0
}

/// The defaults, made once: making them reads the machine id for the default device id.
let defaults = AgentConfiguration()
