import Foundation
import Protocol

extension MosquittoBroker {
    /// mosquitto's dynamic security plugin, where Debian's mosquitto package installs it.
    static let dynamicSecurityPlugin = "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so"

    /// Writes the dynamic security plugin's `configuration` (its JSON file) into `directory` and
    /// returns the mosquitto.conf lines that load the plugin with it. The file lives in the broker's
    /// own directory because the plugin rewrites it whenever its clients or roles change.
    ///
    /// Each of `users` gets its password there. A user the configuration does not list is added as a
    /// client with no roles: to the plugin, that is a stranger with a valid password.
    static func dynamicSecurityAccess(_ configuration: String, users: [String: String], in directory: URL) throws -> String {
        guard FileManager.default.fileExists(atPath: dynamicSecurityPlugin) else {
            throw TestFailure("\(dynamicSecurityPlugin) is missing: run tools/bootstrap (apt package mosquitto)")
        }
        guard case .object(var document) = try JSON(parsing: Array(configuration.utf8)) else {
            throw TestFailure("the dynamic security configuration is not a JSON object")
        }
        var clients = document["clients"]?.array ?? []
        for (name, password) in try passwordFields(users, in: directory) {
            let listed = clients.firstIndex { $0["username"]?.string == name }
            let client = (listed.flatMap { clients[$0].object } ?? ["username": .string(name)]).merging(password) { $1 }
            if let listed { clients[listed] = .object(client) } else { clients.append(.object(client)) }
        }
        document["clients"] = .array(clients)
        let path = directory.appendingPathComponent("dynamic-security.json").path
        try JSON.object(document).serialized.write(toFile: path, atomically: true, encoding: .utf8)
        return "allow_anonymous false\nplugin \(dynamicSecurityPlugin)\nplugin_opt_config_file \(path)"
    }

    /// The plugin's `password`, `salt` and `iterations` for each of `users`, by name. The plugin keeps
    /// the same PBKDF2-SHA512 hash that mosquitto_passwd writes as `name:$7$iterations$salt$hash`,
    /// so the hashes are made by mosquitto_passwd rather than by a second implementation here.
    private static func passwordFields(_ users: [String: String], in directory: URL) throws -> [(String, [String: JSON])] {
        guard !users.isEmpty else { return [] }
        return try String(contentsOfFile: try writePasswords(users, in: directory), encoding: .utf8).split(separator: "\n").map { line in
            guard let colon = line.firstIndex(of: ":") else { throw TestFailure("unexpected mosquitto_passwd line: \(line)") }
            let hash = line[line.index(after: colon)...].split(separator: "$")
            guard hash.count == 4, hash[0] == "7", let iterations = Int(hash[1]) else {
                throw TestFailure("mosquitto_passwd wrote no PBKDF2-SHA512 hash: \(line)")
            }
            return (String(line[..<colon]), ["iterations": JSON(iterations), "salt": .string(String(hash[2])), "password": .string(String(hash[3]))])
        }
    }
}
