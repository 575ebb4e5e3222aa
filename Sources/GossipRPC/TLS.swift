import COpenSSL

/// Server-side TLS: a PEM certificate chain and private key. ALPN offers `h2` only.
public struct TLSServerConfig: Sendable {
    public var certificateChainFile: String
    public var privateKeyFile: String

    public init(certificateChainFile: String, privateKeyFile: String) {
        self.certificateChainFile = certificateChainFile
        self.privateKeyFile = privateKeyFile
    }
}

/// Client-side TLS. Peers are verified against `caFile` (or the system store);
/// `serverNameOverride` replaces the host for SNI and hostname checks.
public struct TLSClientConfig: Sendable {
    public var caFile: String?
    public var serverNameOverride: String?

    public init(caFile: String? = nil, serverNameOverride: String? = nil) {
        self.caFile = caFile
        self.serverNameOverride = serverNameOverride
    }
}

public struct TLSError: Error, CustomStringConvertible {
    public let description: String
}

/// An OpenSSL `SSL_CTX`, configured once, shared by the connections it makes.
final class TLSContext: @unchecked Sendable {
    // Invariant: configured in init and then only used to create SSL objects,
    // which OpenSSL allows from any thread.
    let context: OpaquePointer

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
        guard gfl_ssl_ctx_offer_h2(ctx) == 0 else { throw lastError("setting ALPN") }
        return tls
    }

    /// A new server-side SSL object.
    func makeServerSSL() -> OpaquePointer? { SSL_new(context) }

    /// A new client-side SSL object that checks the peer's name is `hostname`.
    func makeClientSSL(hostname: String) -> OpaquePointer? {
        guard let ssl = SSL_new(context) else { return nil }
        _ = gfl_ssl_set_sni(ssl, hostname)
        let param = SSL_get0_param(ssl)
        if isIPAddress(hostname) {
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

    private func isIPAddress(_ host: String) -> Bool {
        host.contains(":") || host.split(separator: ".").count == 4 && host.allSatisfy { $0.isNumber || $0 == "." }
    }
}
