import COpenSSL
import Glibc

/// Server-side TLS: a PEM certificate chain and private key. ALPN offers `h2` only.
/// With `clientCAFile`, clients' certificates are verified against it (mutual TLS) and
/// handlers see the caller's `PeerIdentity`.
public struct TLSServerConfig: Sendable {
    public enum ClientCertificates: Sendable {
        /// Verified when presented; callers without one are anonymous (handlers decide).
        case optional
        /// The handshake fails without a certificate the CA signed.
        case required
    }

    public var certificateChainFile: String
    public var privateKeyFile: String
    public var clientCAFile: String?
    public var clientCertificates: ClientCertificates

    public init(certificateChainFile: String, privateKeyFile: String, clientCAFile: String? = nil,
                clientCertificates: ClientCertificates = .optional) {
        self.certificateChainFile = certificateChainFile
        self.privateKeyFile = privateKeyFile
        self.clientCAFile = clientCAFile
        self.clientCertificates = clientCertificates
    }
}

/// Client-side TLS. Peers are verified against `caFile` (or the system store);
/// `serverNameOverride` replaces the host for SNI and hostname checks. With a
/// certificate and key, the client authenticates itself (mutual TLS). With
/// `expectedServerIdentity`, the server must present a certificate for exactly that
/// identity (checked instead of the hostname: cluster certificates name a node, not a host).
public struct TLSClientConfig: Sendable {
    public var caFile: String?
    public var serverNameOverride: String?
    public var certificateChainFile: String?
    public var privateKeyFile: String?
    public var expectedServerIdentity: PeerIdentity?
    /// Weaker than an exact identity: any certificate of this role (e.g. "some node" when
    /// dialing a leader hint whose ID is not known yet).
    public var expectedServerRole: PeerIdentity.Role?

    public init(caFile: String? = nil, serverNameOverride: String? = nil, certificateChainFile: String? = nil,
                privateKeyFile: String? = nil, expectedServerIdentity: PeerIdentity? = nil,
                expectedServerRole: PeerIdentity.Role? = nil) {
        self.caFile = caFile
        self.serverNameOverride = serverNameOverride
        self.certificateChainFile = certificateChainFile
        self.privateKeyFile = privateKeyFile
        self.expectedServerIdentity = expectedServerIdentity
        self.expectedServerRole = expectedServerRole
    }

    /// Whether a server's verified identity is what this client expects (true when it expects none).
    func accepts(_ presented: PeerIdentity?) -> Bool {
        if let expected = expectedServerIdentity { return presented == expected }
        if let role = expectedServerRole { return presented?.role == role }
        return true
    }

    var checksIdentity: Bool { expectedServerIdentity != nil || expectedServerRole != nil }
}

public struct TLSError: Error, CustomStringConvertible {
    public let description: String
}

/// An OpenSSL `SSL_CTX`, configured once, shared by the connections it makes.
final class TLSContext: @unchecked Sendable {
    // Invariant: configured in init and then only used to create SSL objects,
    // which OpenSSL allows from any thread.
    let context: OpaquePointer
    /// Client side: the identity the server must prove (nil: check the hostname).
    private(set) var clientConfig: TLSClientConfig?
    /// Server side: whether client certificates are verified.
    private(set) var verifiesClients = false

    private init(context: OpaquePointer) { self.context = context }

    deinit { SSL_CTX_free(context) }

    static func server(_ config: TLSServerConfig) throws -> TLSContext {
        guard let ctx = SSL_CTX_new(TLS_server_method()) else { throw lastError("SSL_CTX_new") }
        let tls = TLSContext(context: ctx)
        _ = gfl_ssl_ctx_set_min_tls12(ctx)
        guard SSL_CTX_use_certificate_chain_file(ctx, config.certificateChainFile) == 1 else {
            throw lastError("loading certificate chain \(config.certificateChainFile)")
        }
        guard SSL_CTX_use_PrivateKey_file(ctx, config.privateKeyFile, SSL_FILETYPE_PEM) == 1 else {
            throw lastError("loading private key \(config.privateKeyFile)")
        }
        guard SSL_CTX_check_private_key(ctx) == 1 else { throw lastError("private key does not match certificate") }
        if let caFile = config.clientCAFile {
            guard SSL_CTX_load_verify_locations(ctx, caFile, nil) == 1 else {
                throw lastError("loading client CA file \(caFile)")
            }
            gfl_ssl_ctx_verify_peer(ctx, config.clientCertificates == .required ? 1 : 0)
            tls.verifiesClients = true
        }
        gfl_ssl_ctx_select_h2(ctx)
        return tls
    }

    static func client(_ config: TLSClientConfig) throws -> TLSContext {
        guard let ctx = SSL_CTX_new(TLS_client_method()) else { throw lastError("SSL_CTX_new") }
        let tls = TLSContext(context: ctx)
        _ = gfl_ssl_ctx_set_min_tls12(ctx)
        if let caFile = config.caFile {
            guard SSL_CTX_load_verify_locations(ctx, caFile, nil) == 1 else {
                throw lastError("loading CA file \(caFile)")
            }
        } else {
            _ = SSL_CTX_set_default_verify_paths(ctx)
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nil)
        if let certificate = config.certificateChainFile {
            guard let keyFile = config.privateKeyFile else { throw TLSError(description: "TLS: a client certificate needs its private key") }
            guard SSL_CTX_use_certificate_chain_file(ctx, certificate) == 1 else {
                throw lastError("loading client certificate chain \(certificate)")
            }
            guard SSL_CTX_use_PrivateKey_file(ctx, keyFile, SSL_FILETYPE_PEM) == 1 else {
                throw lastError("loading client private key \(keyFile)")
            }
            guard SSL_CTX_check_private_key(ctx) == 1 else { throw lastError("client private key does not match its certificate") }
        }
        tls.clientConfig = config
        guard gfl_ssl_ctx_offer_h2(ctx) == 0 else { throw lastError("setting ALPN") }
        return tls
    }

    /// A new server-side SSL object.
    func makeServerSSL() -> OpaquePointer? { SSL_new(context) }

    /// A new client-side SSL object that checks the peer's name is `hostname`.
    func makeClientSSL(hostname: String) -> OpaquePointer? {
        guard let ssl = SSL_new(context) else { return nil }
        _ = gfl_ssl_set_sni(ssl, hostname)
        // The identity is checked after the handshake (ClientConnection) instead of the name.
        guard clientConfig?.checksIdentity != true else { return ssl }
        let param = SSL_get0_param(ssl)
        if Self.isIPAddress(hostname) {
            _ = X509_VERIFY_PARAM_set1_ip_asc(param, hostname)
        } else {
            _ = X509_VERIFY_PARAM_set1_host(param, hostname, 0)
        }
        return ssl
    }

    static func lastError(_ context: String) -> TLSError {
        var buffer = [CChar](repeating: 0, count: 256)
        let text = String(cString: gfl_ssl_last_error(&buffer, buffer.count)!)
        return TLSError(description: text.isEmpty ? "TLS: \(context) failed" : "TLS: \(context): \(text)")
    }

    /// An IPv4 or IPv6 literal (checked with inet_pton), as opposed to a DNS name.
    static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}
