import Discovery
import GossipRPC
import Logging
import Foundation
import Synchronization

/// How a gateway runs.
public struct GatewayConfig: Sendable {
    public var host: String
    public var port: Int
    /// A second listener for the Python nodes' compat service (e.g. port 8090).
    public var compatListen: (host: String, port: Int)?
    /// Where `registry.json` lives; nil keeps the registry in memory only.
    public var dataDirectory: String?
    public var registry: RegistryConfig
    /// How often leases are checked and the snapshot considered for saving.
    public var maintenanceInterval: Duration
    /// Mutual TLS on the main listener (gateway.v1 only). The compat service, whose Python
    /// clients use plain text, is then served only on `compatListen`, over a registry of its
    /// own, so it can neither see nor touch a node registered through the secure API.
    public var tls: ClusterTLS?
    public var logger: Logger

    public init(host: String = "127.0.0.1", port: Int = 7000, compatListen: (host: String, port: Int)? = nil,
                dataDirectory: String? = nil, registry: RegistryConfig = RegistryConfig(),
                maintenanceInterval: Duration = .milliseconds(200), tls: ClusterTLS? = nil,
                logger: Logger = Logger(label: "gossipfl.gateway")) {
        self.host = host
        self.port = port
        self.compatListen = compatListen
        self.dataDirectory = dataDirectory
        self.registry = registry
        self.maintenanceInterval = maintenanceInterval
        self.tls = tls
        self.logger = logger
    }
}

/// The gateway process: gateway.v1 and the compat GatewayService over one
/// registry, leases swept and the snapshot saved in the background.
public final class GatewayServer: Sendable {
    public let state: GatewayState
    /// The compat service's registry: `state` itself, or a separate one in secure mode.
    public let compatState: GatewayState
    private let main: Server
    private let compat: Server?
    private let maintenance = Mutex<Task<Void, Never>?>(nil)
    private let config: GatewayConfig

    public init(config: GatewayConfig, clock: @escaping GatewayState.Clock = { Date().timeIntervalSince1970 }) throws {
        self.config = config
        state = GatewayState(config: config.registry, store: config.dataDirectory.map(RegistryStore.init),
                             clock: clock, logger: config.logger)
        if config.tls != nil {
            compatState = GatewayState(config: config.registry,
                                       store: config.dataDirectory.map { RegistryStore(directory: $0 + "/compat") },
                                       clock: clock, logger: config.logger)
        } else {
            compatState = state
        }
        var v1 = GatewayV1Service.make(state)
        var legacy = CompatGatewayService.make(compatState)
        // Gateway messages are small: a 4 MB request of a million empty map entries must not
        // reach the decoder (it cost the only loop 0.65 s).
        v1.limitRequests(to: Self.maxRequestBytes)
        legacy.limitRequests(to: Self.maxRequestBytes)
        let health = HealthService()
        health.setStatus(.serving, for: GatewayV1Service.name)
        health.setStatus(.serving, for: CompatGatewayService.name)
        let mainServices = config.tls == nil ? [v1, legacy, health.service] : [v1, health.service]
        // Two loops: while one waits for a group commit to settle, the other decodes and answers.
        main = try Server(config: ServerConfig(host: config.host, port: config.port, tls: config.tls?.server,
                                               loopCount: 2, logger: config.logger),
                          services: mainServices)
        compat = try config.compatListen.map { listen in
            try Server(config: ServerConfig(host: listen.host, port: listen.port, logger: config.logger),
                       services: [legacy, health.service])
        }
    }

    /// Requests larger than this get RESOURCE_EXHAUSTED: the largest legitimate one (a
    /// membership report of a few hundred members) is a few KiB.
    public static let maxRequestBytes = 64 << 10

    public var port: Int { main.port }
    public var compatPort: Int? { compat?.port }

    public func start() throws {
        try main.start()
        do {
            try compat?.start()
        } catch {
            Task { [main] in await main.shutdown(grace: .zero) }
            throw error
        }
        state.snapshotIfDue(force: true)
        if compatState !== state { compatState.snapshotIfDue(force: true) }
        let interval = config.maintenanceInterval
        let task = Task.detached { [state, compatState] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                state.maintain()
                if compatState !== state { compatState.maintain() }
            }
        }
        maintenance.withLock { $0 = task }
    }

    /// Stops serving and writes the final snapshot.
    public func shutdown() async {
        maintenance.withLock { $0?.cancel() }
        await main.shutdown(grace: .seconds(1))
        await compat?.shutdown(grace: .seconds(1))
        await state.close()
        if compatState !== state { await compatState.close() }
    }
}
