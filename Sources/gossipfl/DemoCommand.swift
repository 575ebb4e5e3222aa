import ArgumentParser
import Foundation
import GossipRPC
import InteropKit

/// Shows what is built, end to end on loopback: the gRPC runtime (a server,
/// our client, every interop case, plain and TLS when a certificate is
/// given), gateway discovery through an outage and a restart, then a Raft
/// cluster of peer processes through a kill -9 of its leader.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "With --checks: gRPC interop cases, gateway discovery through an outage, Raft failover, on loopback.",
        discussion: "The training demo (a gateway and five training peers through faults) is `make demo` (scripts/train_demo.py).")

    @Flag(help: "Run the runtime, gateway and Raft checks.") var checks = false
    @Option(help: "PEM certificate for a TLS round as well (with --key and --ca).") var cert: String?
    @Option(help: "PEM private key for --cert.") var key: String?
    @Option(help: "PEM CA that signed --cert.") var ca: String?

    func validate() throws {
        guard checks else {
            throw ValidationError("`gossipfl demo --checks` runs the runtime, gateway and Raft checks; the training demo is `make demo`")
        }
    }

    func run() async throws {
        var failures = 0
        failures += try await round(tls: nil, clientTLS: nil, label: "h2c")
        if let cert, let key {
            failures += try await round(
                tls: TLSServerConfig(certificateChainFile: cert, privateKeyFile: key),
                clientTLS: TLSClientConfig(caFile: ca ?? cert, serverNameOverride: "localhost"), label: "TLS")
        }
        failures += try await GatewayDemo.run()
        failures += try await RaftDemo.run()
        if failures > 0 { throw ExitCode.failure }
    }

    private func round(tls: TLSServerConfig?, clientTLS: TLSClientConfig?, label: String) async throws -> Int {
        let health = HealthService()
        let server = try Server(config: ServerConfig(tls: tls), services: [TestServiceProvider.service, health.service])
        try server.start()
        print("[\(label)] server listening on 127.0.0.1:\(server.port)")
        let channel = try Channel(host: "127.0.0.1", port: server.port, config: ChannelConfig(tls: clientTLS))
        let check = try await channel.unary(HealthService.check, .init(service: ""))
        print("[\(label)] health: \(check.status)")
        var failures = 0
        let client = TestServiceClient(channel: channel)
        for (name, run) in InteropCases.all {
            let start = ContinuousClock.now
            do {
                try await run(client)
                let elapsed = (ContinuousClock.now - start).components
                let ms = Double(elapsed.seconds) * 1e3 + Double(elapsed.attoseconds) / 1e15
                print("[\(label)] PASS \(name) (\(String(format: "%.2f", ms)) ms)")
            } catch {
                failures += 1
                print("[\(label)] FAIL \(name): \(error)")
            }
        }
        await channel.close()
        await server.shutdown(grace: .seconds(1))
        print("[\(label)] \(InteropCases.all.count - failures) passed, \(failures) failed")
        return failures
    }
}

/// Asks any gRPC server for its grpc.health.v1 status.
struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "health", abstract: "grpc.health.v1 Check against a server.")

    @Option var host = "127.0.0.1"
    @Option var port: Int
    @Option(help: "Service name; empty for the whole server.") var service = ""
    @Option(help: "Deadline in seconds.") var timeout = 5.0

    func run() async throws {
        let channel = try Channel(host: host, port: port)
        do {
            let response = try await channel.unary(HealthService.check, .init(service: service),
                                                   options: CallOptions(timeout: .milliseconds(Int(timeout * 1000))))
            print(response.status)
            await channel.close()
        } catch {
            print("health check failed: \(error)")
            await channel.close()
            throw ExitCode.failure
        }
    }
}
