import ArgumentParser
import DiscoveryClient
import Foundation
import GossipRPC

/// Runs the node-side discovery client in the foreground, one JSON line per event.
struct RegisterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "register",
        abstract: "Register with a gateway and keep heartbeating; prints one JSON object per event.")

    @Option(help: "The gateway (HOST:PORT).") var gateway: HostPort
    @Option(name: .customLong("node-id")) var nodeID: String
    @Option(help: "Where peers reach this node (HOST:PORT).") var advertise: HostPort
    @Option(name: .customLong("cache-dir"), help: "Directory for discovery.json.") var cacheDir: String?
    @Option(name: .customLong("heartbeat-ms")) var heartbeatMs = 10_000
    @Option(name: .customLong("cluster-id"), help: "The cluster this node already belongs to.") var clusterID: String?
    @Option(name: .customLong("capability"), help: "A capability to advertise (repeatable).") var capabilities: [String] = []
    @OptionGroup var tls: TLSOptions

    func validate() throws {
        guard heartbeatMs > 0 else { throw ValidationError("--heartbeat-ms must be positive") }
    }

    func run() async throws {
        let identity = DiscoveryIdentity(nodeID: nodeID, host: advertise.host, port: advertise.port,
                                         capabilities: capabilities, clusterID: clusterID)
        let config = DiscoveryClientConfig(heartbeatInterval: .milliseconds(heartbeatMs), cacheDirectory: cacheDir, tls: tls.cluster)
        let termination = TerminationSignal()
        let client = try DiscoveryClient(gatewayHost: gateway.host, gatewayPort: gateway.port, identity: identity,
                                         config: config) { event in EventPrinter.print(event) }
        client.start()
        await termination.wait()
        await client.stop()
    }
}

/// Discovery events as JSON lines on stdout.
enum EventPrinter {
    static func print(_ event: DiscoveryEvent) {
        var object: [String: Any]
        switch event {
        case .cached(let result):
            object = describe(result)
            object["event"] = "cached"
        case .registered(let result):
            object = describe(result)
            object["event"] = "registered"
        case .heartbeat(let known):
            object = ["event": "heartbeat", "known": known]
        case .reported(let accepted, let reason):
            object = ["event": "reported", "accepted": accepted, "reason": reason]
        case .unreachable(let error, let retryIn):
            let (seconds, attoseconds) = retryIn.components
            object = ["event": "unreachable", "error": error,
                      "retry_in_ms": Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)]
        }
        guard var data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        data.append(UInt8(ascii: "\n"))
        FileHandle.standardOutput.write(data)
    }

    private static func describe(_ result: DiscoveryResult) -> [String: Any] {
        [
            "bootstrap": result.bootstrap,
            "cluster_id": result.clusterID ?? NSNull(),
            "leader": result.leader?.nodeID ?? NSNull(),
            "peers": result.peers.map(\.nodeID),
            "from_cache": result.fromCache,
            "registry_version": result.registryVersion,
        ]
    }
}
