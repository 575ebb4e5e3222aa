import COpenSSL
import Glibc

/// A certificate and its private key, as PEM text.
public struct IssuedCertificate: Sendable {
    public let certificatePEM: String
    public let privateKeyPEM: String

    public init(certificatePEM: String, privateKeyPEM: String) {
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
    }
}

/// The cluster's own CA and the certificates it issues (`gossipfl certs`), made with
/// OpenSSL: EC P-256 keys, SHA-256 signatures. A leaf carries its identity as a
/// `gossipfl:ROLE/NAME` URI and the hosts it serves on as DNS/IP names, so grpcio
/// clients can check the hostname while our peers check the identity.
public enum ClusterCertificates {
    public static func makeAuthority(name: String, days: Int = 3650) throws(TLSError) -> IssuedCertificate {
        let key = try newKey()
        defer { EVP_PKEY_free(key) }
        let cert = try make(key: key, commonName: name, days: days, issuer: nil, issuerKey: nil, extensions: [
            (NID_basic_constraints, "critical,CA:TRUE,pathlen:0"),
            (NID_key_usage, "critical,keyCertSign,cRLSign"),
            (NID_subject_key_identifier, "hash"),
        ])
        defer { X509_free(cert) }
        return IssuedCertificate(certificatePEM: try pem(cert), privateKeyPEM: try pem(key: key))
    }

    /// A certificate for `identity`, valid for `hosts` (DNS names or IP addresses), signed by `authority`.
    public static func issue(_ identity: PeerIdentity, hosts: [String], days: Int = 825,
                             authority: IssuedCertificate) throws(TLSError) -> IssuedCertificate {
        guard !identity.name.contains(","), !identity.name.contains(where: \.isWhitespace) else {
            throw TLSError(description: "certificate name \(identity.name.debugDescription) may not contain commas or spaces")
        }
        let caCert = try parseCertificate(authority.certificatePEM)
        defer { X509_free(caCert) }
        let caKey = try parseKey(authority.privateKeyPEM)
        defer { EVP_PKEY_free(caKey) }
        let key = try newKey()
        defer { EVP_PKEY_free(key) }
        var names = ["URI:\(identity.uri)"]
        for host in hosts where !host.isEmpty {
            guard !host.contains(",") else { throw TLSError(description: "host \(host.debugDescription) contains a comma") }
            names.append(TLSContext.isIPAddress(host) ? "IP:\(host)" : "DNS:\(host)")
        }
        let cert = try make(key: key, commonName: identity.name, days: days, issuer: caCert, issuerKey: caKey, extensions: [
            (NID_basic_constraints, "critical,CA:FALSE"),
            (NID_key_usage, "critical,digitalSignature,keyEncipherment"),
            (NID_ext_key_usage, "serverAuth,clientAuth"),
            (NID_subject_alt_name, names.joined(separator: ",")),
            (NID_authority_key_identifier, "keyid:always"),
        ])
        defer { X509_free(cert) }
        return IssuedCertificate(certificatePEM: try pem(cert), privateKeyPEM: try pem(key: key))
    }

    /// The identity a PEM certificate carries (no verification: for tools and tests).
    public static func identity(inCertificatePEM text: String) -> PeerIdentity? {
        guard let cert = try? parseCertificate(text) else { return nil }
        defer { X509_free(cert) }
        return identity(of: cert)
    }

    static func identity(of cert: OpaquePointer) -> PeerIdentity? {
        var buffer = [CChar](repeating: 0, count: 512)
        guard gfl_x509_uri_san(cert, PeerIdentity.uriScheme, &buffer, buffer.count) > 0 else { return nil }
        return PeerIdentity(uri: String(cString: buffer))
    }

    // MARK: OpenSSL

    private static func newKey() throws(TLSError) -> OpaquePointer {
        guard let key = gfl_ec_p256_key() else { throw TLSContext.lastError("generating an EC P-256 key") }
        return key
    }

    private static func make(key: OpaquePointer, commonName: String, days: Int, issuer: OpaquePointer?,
                             issuerKey: OpaquePointer?, extensions: [(Int32, String)]) throws(TLSError) -> OpaquePointer {
        let nids = extensions.map(\.0)
        let values = extensions.map { strdup($0.1) }
        defer { values.forEach { free($0) } }
        var valueList = values.map { UnsafePointer($0) }
        let made = valueList.withUnsafeMutableBufferPointer { valuePointers in
            nids.withUnsafeBufferPointer { nidPointers in
                gfl_x509_make(key, commonName, days, issuer, issuerKey, nidPointers.baseAddress, valuePointers.baseAddress,
                              Int32(extensions.count))
            }
        }
        guard let made else { throw TLSContext.lastError("issuing a certificate for \(commonName)") }
        return made
    }

    private static func pem(_ cert: OpaquePointer) throws(TLSError) -> String {
        var length = 0
        guard let text = gfl_x509_pem(cert, &length) else { throw TLSContext.lastError("encoding a certificate") }
        defer { free(text) }
        return String(decoding: UnsafeRawBufferPointer(start: text, count: length), as: UTF8.self)
    }

    private static func pem(key: OpaquePointer) throws(TLSError) -> String {
        var length = 0
        guard let text = gfl_key_pem(key, &length) else { throw TLSContext.lastError("encoding a private key") }
        defer { free(text) }
        return String(decoding: UnsafeRawBufferPointer(start: text, count: length), as: UTF8.self)
    }

    static func parseCertificate(_ text: String) throws(TLSError) -> OpaquePointer {
        let cert = text.utf8CString.withUnsafeBufferPointer { gfl_x509_from_pem($0.baseAddress, Int32($0.count - 1)) }
        guard let cert else { throw TLSContext.lastError("reading a PEM certificate") }
        return cert
    }

    static func parseKey(_ text: String) throws(TLSError) -> OpaquePointer {
        let key = text.utf8CString.withUnsafeBufferPointer { gfl_key_from_pem($0.baseAddress, Int32($0.count - 1)) }
        guard let key else { throw TLSContext.lastError("reading a PEM private key") }
        return key
    }
}
