import ArgumentParser
import Foundation
import GossipRPC
import GossipWire

/// Load generator for the gateway: N registrations from C concurrent clients.
struct GatewayBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway-bench", abstract: "Measure gateway registrations/s and latency (prints one JSON line).")

    @Option(help: "The gateway (HOST:PORT).") var gateway: HostPort
    @Option(help: "Concurrent clients, each with its own connection.") var clients = 8
    @Option(help: "Registrations in total (distinct node IDs).") var registrations = 10_000
    @Option(help: "Node ID prefix.") var prefix = "bench"
    /// A secure gateway accepts a node's registration only with that node's certificate, so the
    /// bench (thousands of IDs) runs against an insecure one.
    @OptionGroup var tls: TLSOptions

    func validate() throws {
        guard clients > 0, registrations > 0 else { throw ValidationError("--clients and --registrations must be positive") }
    }

    func run() async throws {
        typealias G = GatewayV1
        let method = MethodDescriptor<G.RegisterRequest, G.RegisterResponse>(service: "gateway.v1.Gateway", method: "Register")
        let config = ChannelConfig(tls: tls.cluster?.client(expectingRole: .gateway))
        let channels = try (0..<clients).map { _ in try Channel(host: gateway.host, port: gateway.port, config: config) }
        let start = ContinuousClock.now
        let (latencies, errors) = await withTaskGroup(of: ([Double], Int).self) { group in
            for (c, channel) in channels.enumerated() {
                group.addTask { [prefix, registrations, clients] in
                    var latencies: [Double] = []
                    var errors = 0
                    for i in stride(from: c, to: registrations, by: clients) {
                        let request = G.RegisterRequest(nodeId: "\(prefix)-\(i)",
                                                        address: G.NodeAddress(host: "10.0.\(i / 65000 % 250).\(i % 250 + 1)",
                                                                               port: UInt32(1024 + i % 60000)))
                        let t0 = ContinuousClock.now
                        do {
                            _ = try await channel.unary(method, request, options: CallOptions(timeout: .seconds(10)))
                            latencies.append(LoadSummary.milliseconds(since: t0))
                        } catch {
                            errors += 1
                        }
                    }
                    return (latencies, errors)
                }
            }
            var all: [Double] = []
            var errors = 0
            for await (latencies, failed) in group {
                all += latencies
                errors += failed
            }
            return (all, errors)
        }
        let summary = LoadSummary(latencies: latencies, errors: errors, since: start)
        for channel in channels { await channel.close() }
        try summary.print(["registrations": registrations, "clients": clients])
        if errors > 0 { throw ExitCode.failure }
    }
}
