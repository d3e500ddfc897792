import Foundation

/// A certificate authority and a broker certificate made with the openssl command for one test,
/// and a second authority that signed nothing (for a client that trusts the wrong CA).
public struct TestCertificates: Sendable {
    public let directory: URL
    /// The authority that signed the broker's certificate.
    public var caFile: String { directory.appendingPathComponent("ca.crt").path }
    /// An authority that signed nothing here.
    public var otherCAFile: String { directory.appendingPathComponent("other-ca.crt").path }
    public var certificateFile: String { directory.appendingPathComponent("broker.crt").path }
    public var keyFile: String { directory.appendingPathComponent("broker.key").path }

    /// Makes the files; the broker's certificate names `names` (DNS names or IP addresses).
    public init(names: [String]) throws {
        directory = try makeTemporaryDirectory("certificates")
        let names = names.map { $0.first!.isNumber ? "IP:\($0)" : "DNS:\($0)" }.joined(separator: ",")
        try "subjectAltName=\(names)\n".write(to: directory.appendingPathComponent("names.cnf"), atomically: true, encoding: .utf8)
        for authority in ["ca", "other-ca"] {
            try Self.openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=elutq test \(authority)",
                              "-keyout", "\(authority).key", "-out", "\(authority).crt"], in: directory)
        }
        try Self.openssl(["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=elutq test broker",
                          "-keyout", "broker.key", "-out", "broker.csr"], in: directory)
        try Self.openssl(["x509", "-req", "-in", "broker.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                          "-days", "2", "-extfile", "names.cnf", "-out", "broker.crt"], in: directory)
    }

    private static func openssl(_ arguments: [String], in directory: URL) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestFailure("openssl \(arguments.prefix(2).joined(separator: " ")) failed (is Debian's openssl installed?)")
        }
    }
}
