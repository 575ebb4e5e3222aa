import Foundation
import GossipRPC
import GossipWire
import Testing

/// Certificates from `ClusterCertificates` on disk: a CA and leaves by name.
struct TestCluster {
    let directory: String
    let authority: IssuedCertificate

    init() throws {
        directory = NSTemporaryDirectory() + "gossipfl-mtls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        authority = try ClusterCertificates.makeAuthority(name: "test CA", days: 1)
        try authority.certificatePEM.write(toFile: directory + "/ca.pem", atomically: true, encoding: .utf8)
    }

    func tls(_ identity: PeerIdentity, authority other: IssuedCertificate? = nil) throws -> ClusterTLS {
        let issued = try ClusterCertificates.issue(identity, hosts: ["127.0.0.1"], days: 1, authority: other ?? authority)
        let base = directory + "/\(identity.role.rawValue)-\(identity.name)"
        try issued.certificatePEM.write(toFile: base + ".pem", atomically: true, encoding: .utf8)
        try issued.privateKeyPEM.write(toFile: base + "-key.pem", atomically: true, encoding: .utf8)
        return ClusterTLS(certificateFile: base + ".pem", privateKeyFile: base + "-key.pem", caFile: directory + "/ca.pem")
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

/// Mutual TLS: the server learns the caller's identity from its certificate; the
/// client insists on the identity it expects at the other end.
@Suite(.timeLimit(.minutes(1))) struct MutualTLSTests {
    static let whoAmI = MethodDescriptor<GRPCTesting.Empty, GRPCTesting.SimpleResponse>(service: "test.Identity", method: "WhoAmI")

    /// Answers with the caller's identity as the server saw it ("anonymous" without a certificate).
    static var identityService: Service {
        var service = Service(name: "test.Identity")
        service.unary("WhoAmI") { (_: GRPCTesting.Empty, context) in
            let text = context.peerIdentity.map(\.uri) ?? "anonymous"
            return GRPCTesting.SimpleResponse(payload: GRPCTesting.Payload(body: Array(text.utf8)))
        }
        return service
    }

    static func ask(_ server: Server, _ tls: TLSClientConfig) async throws -> String {
        let channel = try Channel(host: "127.0.0.1", port: server.port,
                                  config: ChannelConfig(tls: tls, connectTimeout: .seconds(2)))
        defer { Task { await channel.close() } }
        let reply = try await channel.unary(whoAmI, GRPCTesting.Empty(), options: CallOptions(timeout: .seconds(5)))
        return String(decoding: reply.payload?.body ?? [], as: UTF8.self)
    }

    @Test func theServerSeesTheCallersCertificateIdentity() async throws {
        let cluster = try TestCluster()
        defer { cluster.remove() }
        let n1 = try cluster.tls(.node("n1")), n2 = try cluster.tls(.node("n2"))
        let admin = try cluster.tls(PeerIdentity(role: .admin, name: "alice"))
        let server = try Server(config: ServerConfig(tls: n1.server), services: [Self.identityService])
        try server.start()
        defer { Task { await server.shutdown(grace: .zero) } }

        #expect(try await Self.ask(server, n2.client(expecting: .node("n1"))) == "gossipfl:node/n2")
        #expect(try await Self.ask(server, admin.client(expectingRole: .node)) == "gossipfl:admin/alice")
        // Trusting the CA without a certificate of our own: anonymous.
        #expect(try await Self.ask(server, TLSClientConfig(caFile: n1.caFile, expectedServerRole: .node)) == "anonymous")
    }

    @Test func theClientRefusesAServerWithAnotherIdentity() async throws {
        let cluster = try TestCluster()
        defer { cluster.remove() }
        let n1 = try cluster.tls(.node("n1")), n2 = try cluster.tls(.node("n2"))
        let server = try Server(config: ServerConfig(tls: n1.server), services: [Self.identityService])
        try server.start()
        defer { Task { await server.shutdown(grace: .zero) } }
        await #expect {
            _ = try await Self.ask(server, n2.client(expecting: .node("n3")))
        } throws: { error in
            guard let error = error as? RPCError else { return false }
            return error.code == .unavailable && error.message.contains("presented the certificate of node n1, expected node n3")
        }
        await #expect(throws: RPCError.self) { _ = try await Self.ask(server, n2.client(expectingRole: .gateway)) }
    }

    @Test func aCertificateFromAnotherCAIsNotAnIdentity() async throws {
        let cluster = try TestCluster()
        defer { cluster.remove() }
        let n1 = try cluster.tls(.node("n1"))
        let foreignCA = try ClusterCertificates.makeAuthority(name: "other CA", days: 1)
        let intruder = try cluster.tls(.node("n2"), authority: foreignCA)
        let server = try Server(config: ServerConfig(tls: n1.server), services: [Self.identityService])
        try server.start()
        defer { Task { await server.shutdown(grace: .zero) } }
        // The server asks for a certificate but does not require one; one it cannot verify fails the handshake.
        await #expect(throws: RPCError.self) { _ = try await Self.ask(server, intruder.client(expecting: .node("n1"))) }
    }

    @Test func identitiesParseOnlyTheirOwnScheme() {
        #expect(PeerIdentity(uri: "gossipfl:node/n1") == .node("n1"))
        #expect(PeerIdentity(uri: "gossipfl:admin/a.b-c") == PeerIdentity(role: .admin, name: "a.b-c"))
        for bad in ["gossipfl:node/", "gossipfl:root/x", "gossipfl:node/a/b", "spiffe://x/node/n1", "gossipfl:node"] {
            #expect(PeerIdentity(uri: bad) == nil, "\(bad)")
        }
        #expect(throws: TLSError.self) {
            _ = try ClusterCertificates.issue(.node("a,URI:gossipfl:admin/x"), hosts: [],
                                              authority: ClusterCertificates.makeAuthority(name: "ca", days: 1))
        }
    }
}
