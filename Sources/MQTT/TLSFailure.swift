/// Names why a TLS connection failed, from what libmosquitto logged while it tried.
///
/// libmosquitto returns one code for every TLS failure ("A TLS error occurred."), which tells an
/// operator nothing; the lines it logs (OpenSSL's errors and its own host name check) tell the
/// cases apart.
enum TLSFailure {
    /// A sentence naming the failure, for a connection to `host`:`port`.
    static func describe(logged lines: [String], host: String, port: Int) -> String {
        let text = lines.joined(separator: "\n").lowercased()
        if text.contains("host name verification failed") {
            return "TLS: hostname mismatch: the broker's certificate does not name \(host) (connect by a name the certificate lists)"
        }
        if text.contains("certificate verify failed") {
            return "TLS: the broker's certificate is not trusted: not signed by the CA in the CA file (unknown CA), or expired, or not yet valid"
        }
        if ["unexpected eof", "wrong version number", "packet length too long", "record layer failure", "http request"]
            .contains(where: text.contains) {
            return "TLS: \(host):\(port) is not a TLS server: it did not answer the TLS handshake (a plain MQTT port?)"
        }
        let detail = lines.last.map { " (\($0))" } ?? ""
        return "TLS: the handshake with \(host):\(port) failed\(detail)"
    }

    /// Why a broker that closed the connection before answering CONNECT did so, when this
    /// client did not use TLS: most often, the port is a TLS listener.
    static func plainClientHint(host: String, port: Int) -> String {
        "\(host):\(port) closed the connection before answering CONNECT: if it is a TLS listener, connect with TLS (tls_ca_file, or --cafile)"
    }
}
