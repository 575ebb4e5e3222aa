import ArgumentParser
import Foundation
import GossipRPC
import InteropKit

@main
struct InteropCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gossipfl-interop",
        abstract: "gRPC interop server and client (grpc.testing.TestService) on the GossipFL runtime.",
        subcommands: [ServerCommand.self, ClientCommand.self])
}

struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server", abstract: "Serve grpc.testing.TestService and grpc.health.v1.Health until SIGTERM/SIGINT.")

    @Option(name: .customLong("host"), help: "Address to bind.") var host = "127.0.0.1"
    @Option(name: .customLong("port"), help: "Port to bind; 0 picks a free one.") var port = 0
    @Flag(name: .customLong("use_tls"), help: "Serve TLS (ALPN h2).") var useTLS = false
    @Option(name: .customLong("tls_cert_file"), help: "PEM certificate chain (with --use_tls).") var certFile: String?
    @Option(name: .customLong("tls_key_file"), help: "PEM private key (with --use_tls).") var keyFile: String?
    @Option(name: .customLong("tls_client_ca_file"), help: "Verify client certificates against this CA when presented (mutual TLS).")
    var clientCAFile: String?
    @Option(name: .customLong("max_receive_message_size"), help: "Largest request message in bytes.")
    var maxReceiveMessageSize = 4 << 20
    @Option(name: .customLong("loops"), help: "Event-loop threads.") var loops = 1
    @Option(name: .customLong("handshake_timeout_s"), help: "Close connections without an HTTP/2 preface after this long.")
    var handshakeTimeout = 10.0
    @Option(name: .customLong("idle_timeout_s"), help: "GOAWAY connections without calls after this long.")
    var idleTimeout = 300.0
    @Option(name: .customLong("max_connections"), help: "Refuse connections beyond this many (default: 3/4 of the open-file limit).")
    var maxConnections: Int?

    func validate() throws {
        if useTLS && (certFile == nil || keyFile == nil) {
            throw ValidationError("--use_tls needs --tls_cert_file and --tls_key_file")
        }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
        guard maxReceiveMessageSize > 0 else { throw ValidationError("--max_receive_message_size must be positive") }
        guard handshakeTimeout > 0, idleTimeout > 0, (maxConnections ?? 1) > 0 else {
            throw ValidationError("timeouts and --max_connections must be positive")
        }
    }

    func run() async throws {
        OpenFileLimit.raiseToHardLimit()
        let tls = useTLS ? TLSServerConfig(certificateChainFile: certFile!, privateKeyFile: keyFile!, clientCAFile: clientCAFile) : nil
        let health = HealthService()
        health.setStatus(.serving, for: TestServiceClient.service)
        var config = ServerConfig(host: host, port: port, tls: tls, maxReceiveMessageSize: maxReceiveMessageSize,
                                  loopCount: loops)
        config.handshakeTimeout = .milliseconds(Int(handshakeTimeout * 1000))
        config.idleTimeout = .milliseconds(Int(idleTimeout * 1000))
        if let maxConnections { config.maxConnections = maxConnections }
        let service = TestServiceProvider.service(maxResponseBytes: max(4 << 20, maxReceiveMessageSize))
        let server = try Server(config: config, services: [service, health.service])
        // Handlers go in before anyone can learn our port and signal us.
        let termination = TerminationSignal()
        try server.start()
        // The line test harnesses wait for; written unbuffered.
        FileHandle.standardOutput.write(Data("listening on \(host):\(server.port)\n".utf8))
        await termination.wait()
        await server.shutdown(grace: .seconds(2))
    }
}

struct ClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client", abstract: "Run interop test cases against a TestService server.")

    @Option(name: .customLong("server_host")) var serverHost = "127.0.0.1"
    @Option(name: .customLong("server_port")) var serverPort: Int
    @Option(name: .customLong("test_case"), help: "A case name, or 'all'.") var testCase = "all"
    @Flag(name: .customLong("use_tls")) var useTLS = false
    @Option(name: .customLong("ca_file"), help: "PEM CA certificate to verify the server with.") var caFile: String?
    @Option(name: .customLong("server_host_override"), help: "Name for SNI and certificate checks.")
    var serverHostOverride: String?

    func validate() throws {
        if testCase != "all" && InteropCases.named(testCase) == nil {
            let names = InteropCases.all.map(\.name).joined(separator: ", ")
            throw ValidationError("unknown test case \(testCase); known: \(names)")
        }
    }

    func run() async throws {
        let tls = useTLS ? TLSClientConfig(caFile: caFile, serverNameOverride: serverHostOverride) : nil
        let channel = try Channel(host: serverHost, port: serverPort, config: ChannelConfig(tls: tls))
        let client = TestServiceClient(channel: channel)
        let cases = testCase == "all" ? InteropCases.all : InteropCases.all.filter { $0.name == testCase }
        var failed: [String] = []
        for (name, run) in cases {
            do {
                try await run(client)
                print("PASS \(name)")
            } catch {
                failed.append(name)
                FileHandle.standardError.write(Data("FAIL \(name): \(error)\n".utf8))
            }
        }
        await channel.close()
        print("\(cases.count - failed.count) passed, \(failed.count) failed")
        if !failed.isEmpty { throw ExitCode.failure }
    }
}
