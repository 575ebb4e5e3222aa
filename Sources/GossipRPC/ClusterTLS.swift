/// One process's TLS material in a cluster secured by `gossipfl certs`: its own
/// certificate and key, and the cluster CA that every peer's certificate must chain to.
/// Servers verify clients' certificates; clients verify the server's identity.
public struct ClusterTLS: Sendable {
    public var certificateFile: String
    public var privateKeyFile: String
    public var caFile: String

    public init(certificateFile: String, privateKeyFile: String, caFile: String) {
        self.certificateFile = certificateFile
        self.privateKeyFile = privateKeyFile
        self.caFile = caFile
    }

    /// Clients without a certificate may connect (handlers refuse what needs one).
    public var server: TLSServerConfig {
        TLSServerConfig(certificateChainFile: certificateFile, privateKeyFile: privateKeyFile, clientCAFile: caFile,
                        clientCertificates: .optional)
    }

    /// A client that presents our certificate and accepts only `identity` at the other end.
    public func client(expecting identity: PeerIdentity) -> TLSClientConfig {
        TLSClientConfig(caFile: caFile, certificateChainFile: certificateFile, privateKeyFile: privateKeyFile,
                        expectedServerIdentity: identity)
    }

    /// A client that accepts any certificate of `role` (the ID behind an address is not known yet).
    public func client(expectingRole role: PeerIdentity.Role) -> TLSClientConfig {
        TLSClientConfig(caFile: caFile, certificateChainFile: certificateFile, privateKeyFile: privateKeyFile,
                        expectedServerRole: role)
    }
}
