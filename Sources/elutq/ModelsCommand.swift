import ArgumentParser
import Foundation
import ModelPush
import MQTT
import Protocol

/// `elutq models`: a device's model store.
struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models", abstract: "List the models stored on a device, with size, SHA-256 and which one is active.")

    @Option(help: "The device to ask.") var device: String
    @Option(help: "Seconds to wait for the device.") var timeout: Double = 30
    @Flag(help: "Print the device's JSON answer.") var json = false
    @OptionGroup var broker: BrokerOptions

    func run() throws {
        let reply = try askDevice(broker, device, "list", name: nil, key: nil, timeout: timeout)
        if json { return print(reply.serialized) }
        printStore(reply)
    }
}

/// `elutq use`: switch a device to a stored model, between two requests.
struct UseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "use",
        abstract: "Make a stored model the one a device serves.",
        discussion: """
            The request running now finishes on the old model; the next uses the new one. If the new model does not \
            load, the device keeps the old one and the command fails with the reason. The command is signed with \
            --key for this device and this moment; the device acts on it only if one of its trusted_keys verifies \
            it, once, within its command_max_age.
            """)

    @Option(help: "The device.") var device: String
    @Argument(help: "The stored model's name.") var name: String
    @Option(help: "Sign the command with this private key (elutq keygen); the device must trust its .pub.") var key: String
    @Option(help: "Seconds to wait for the device (loading included).") var timeout: Double = 120
    @OptionGroup var broker: BrokerOptions

    func run() throws {
        let reply = try askDevice(broker, device, "use", name: name, key: key, timeout: timeout)
        print("\(device): serving \(reply["active"]?["name"]?.string ?? "?") (sha256 \(reply["active"]?["sha256"]?.string ?? "?"))")
    }
}

/// `elutq rm`: delete a stored model (never the active one).
struct RmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm", abstract: "Delete a model from a device's store; the model being served cannot be deleted.",
        discussion: "Signed with --key, as `elutq use` is.")

    @Option(help: "The device.") var device: String
    @Argument(help: "The stored model's name.") var name: String
    @Option(help: "Sign the command with this private key (elutq keygen); the device must trust its .pub.") var key: String
    @Option(help: "Seconds to wait for the device.") var timeout: Double = 30
    @OptionGroup var broker: BrokerOptions

    func run() throws {
        printStore(try askDevice(broker, device, "rm", name: name, key: key, timeout: timeout))
    }
}

/// Connects, waits for the device to be online, sends one model command (signed with the key at
/// `key` when given) and returns the answer. The key is read before connecting, so a bad key
/// fails at once.
private func askDevice(_ broker: BrokerOptions, _ device: String, _ command: String, name: String?, key: String?,
                       timeout: Double) throws -> JSON {
    let signingKey = try key.map { try SigningKeys.privateKey(at: $0) }
    let session = try DeviceSession(broker: broker, command: command, device: device)
    defer { session.client.stop() }
    try waitUntilOnline(session.topics(device), inbox: session.inbox, deadline: Date().addingTimeInterval(timeout))
    return try session.modelCommand(device, command, name: name, key: signingKey, timeout: timeout)
}

/// The store as a table: name, size, SHA-256, and a * on the active model.
private func printStore(_ reply: JSON) {
    let models = reply["models"]?.array ?? []
    if models.isEmpty { print("(no stored models)") }
    for model in models {
        let mark = model["active"]?.bool == true ? "*" : " "
        let name = (model["name"]?.string ?? "?").padding(toLength: 32, withPad: " ", startingAt: 0)
        print("\(mark) \(name) \(String(format: "%8.1f MB", Double(model["size"]?.int ?? 0) / 1e6))  \(model["sha256"]?.string ?? "?")")
    }
    print("active: \(reply["active"]?["name"]?.string ?? "?") (sha256 \(reply["active"]?["sha256"]?.string ?? "?"))")
}
