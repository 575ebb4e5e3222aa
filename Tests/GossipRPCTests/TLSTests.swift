import Foundation
import GossipRPC
import InteropKit
import Testing

/// A self-signed certificate for localhost/127.0.0.1, made with the openssl CLI.
struct TestCertificate {
    let directory: URL
    var cert: String { directory.appendingPathComponent("cert.pem").path }
    var key: String { directory.appendingPathComponent("key.pem").path }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("gossipfl-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out", cert]
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw RPCError(.internal, "openssl req failed") }
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}

@Suite(.timeLimit(.minutes(1)))
struct TLSTests {
    @Test func interopCasesOverTLS() async throws {
        let certificate = try TestCertificate()
        defer { certificate.remove() }
        let server = ServerConfig(tls: TLSServerConfig(certificateChainFile: certificate.cert, privateKeyFile: certificate.key))
        let client = ChannelConfig(tls: TLSClientConfig(caFile: certificate.cert, serverNameOverride: "localhost"))
        try await withServer(config: server, channelConfig: client) { _, channel in
            let stub = TestServiceClient(channel: channel)
            for (name, run) in InteropCases.all {
                do { try await run(stub) } catch { Issue.record("\(name): \(error)") }
            }
        }
    }

    @Test func untrustedCertificateIsRefused() async throws {
        let certificate = try TestCertificate()
        let other = try TestCertificate()
        defer { certificate.remove(); other.remove() }
        let server = ServerConfig(tls: TLSServerConfig(certificateChainFile: certificate.cert, privateKeyFile: certificate.key))
        let client = ChannelConfig(tls: TLSClientConfig(caFile: other.cert, serverNameOverride: "localhost"))
        try await withServer(config: server, channelConfig: client) { _, channel in
            let error = await expectRPCError(.unavailable) { _ = try await TestServiceClient(channel: channel).emptyCall() }
            #expect(error?.message.contains("certificate verify failed") == true)
        }
    }

    @Test func wrongHostnameIsRefused() async throws {
        let certificate = try TestCertificate()
        defer { certificate.remove() }
        let server = ServerConfig(tls: TLSServerConfig(certificateChainFile: certificate.cert, privateKeyFile: certificate.key))
        let client = ChannelConfig(tls: TLSClientConfig(caFile: certificate.cert, serverNameOverride: "not-localhost.example"))
        try await withServer(config: server, channelConfig: client) { _, channel in
            await expectRPCError(.unavailable) { _ = try await TestServiceClient(channel: channel).emptyCall() }
        }
    }

    @Test func plaintextClientCannotTalkToATLSServer() async throws {
        let certificate = try TestCertificate()
        defer { certificate.remove() }
        let server = ServerConfig(tls: TLSServerConfig(certificateChainFile: certificate.cert, privateKeyFile: certificate.key))
        try await withServer(config: server, channelConfig: ChannelConfig(connectTimeout: .seconds(3))) { _, channel in
            await expectRPCError(.unavailable) { _ = try await TestServiceClient(channel: channel).emptyCall() }
        }
    }

    @Test func missingCertificateFileIsAClearError() {
        #expect(throws: TLSError.self) {
            _ = try Server(config: ServerConfig(tls: TLSServerConfig(certificateChainFile: "/nonexistent.pem",
                                                                     privateKeyFile: "/nonexistent.key")), services: [])
        }
    }
}
