import ArgumentParser
import ModelPush

/// `elutq keygen`: a new Ed25519 key pair for signing pushed models.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Write a new Ed25519 key pair for signing models: KEY (mode 0600) and KEY.pub.",
        discussion: "List KEY.pub in a device's trusted_keys; keep KEY on the machine that signs. An existing KEY is never overwritten.")

    @Option(name: [.customShort("o"), .long], help: "The private key file to write.") var output = "elutq-signing.key"

    func run() throws {
        do {
            let (_, publicPath) = try SigningKeys.generate(privatePath: output)
            print("private key: \(output) (mode 0600)\npublic key:  \(publicPath)")
        } catch {
            throw failure("\(error)")
        }
    }
}
