import ArgumentParser
import Foundation
import GossipRPC

/// `--tls-cert/--tls-key/--tls-ca` (files made by `gossipfl certs`) or an explicit `--insecure`.
/// There is no silent default: a cluster runs with mutual TLS unless told otherwise.
struct TLSOptions: ParsableArguments {
    @Option(name: .customLong("tls-cert"), help: "This process's certificate (PEM, from `gossipfl certs`).")
    var certificate: String?
    @Option(name: .customLong("tls-key"), help: "Its private key (PEM).") var key: String?
    @Option(name: .customLong("tls-ca"), help: "The cluster CA certificate (PEM).") var ca: String?
    @Flag(help: "Plain-text HTTP/2, no authentication: local development only.") var insecure = false

    func validate() throws {
        let given = [certificate, key, ca].compactMap { $0 }.count
        if insecure {
            guard given == 0 else { throw ValidationError("--insecure excludes --tls-cert, --tls-key and --tls-ca") }
        } else {
            guard given == 3 else {
                throw ValidationError("give --tls-cert, --tls-key and --tls-ca (see `gossipfl certs`), or --insecure for local development")
            }
        }
    }

    /// nil in insecure mode.
    var cluster: ClusterTLS? {
        guard !insecure, let certificate, let key, let ca else { return nil }
        return ClusterTLS(certificateFile: certificate, privateKeyFile: key, caFile: ca)
    }

    /// Insecure servers reachable beyond this machine deserve a warning.
    func warnIfExposed(listening host: String) {
        guard insecure, !["127.0.0.1", "::1", "localhost"].contains(host) else { return }
        FileHandle.standardError.write(Data(
            "warning: --insecure on \(host): anyone who can reach this port can act as any node\n".utf8))
    }
}
