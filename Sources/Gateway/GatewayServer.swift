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
    public var logger: Logger

    public init(host: String = "127.0.0.1", port: Int = 7000, compatListen: (host: String, port: Int)? = nil,
                dataDirectory: String? = nil, registry: RegistryConfig = RegistryConfig(),
                maintenanceInterval: Duration = .milliseconds(200), logger: Logger = Logger(label: "gossipfl.gateway")) {
        self.host = host
        self.port = port
        self.compatListen = compatListen
        self.dataDirectory = dataDirectory
        self.registry = registry
        self.maintenanceInterval = maintenanceInterval
        self.logger = logger
    }
}

/// The gateway process: gateway.v1 and the compat GatewayService over one
/// registry, leases swept and the snapshot saved in the background.
public final class GatewayServer: Sendable {
    public let state: GatewayState
    private let main: Server
    private let compat: Server?
    private let maintenance = Mutex<Task<Void, Never>?>(nil)
    private let config: GatewayConfig

    public init(config: GatewayConfig, clock: @escaping GatewayState.Clock = { Date().timeIntervalSince1970 }) throws {
        self.config = config
        state = GatewayState(config: config.registry, store: config.dataDirectory.map(RegistryStore.init),
                             clock: clock, logger: config.logger)
        let v1 = GatewayV1Service.make(state)
        let legacy = CompatGatewayService.make(state)
        let health = HealthService()
        health.setStatus(.serving, for: GatewayV1Service.name)
        health.setStatus(.serving, for: CompatGatewayService.name)
        main = try Server(config: ServerConfig(host: config.host, port: config.port, logger: config.logger),
                          services: [v1, legacy, health.service])
        compat = try config.compatListen.map { listen in
            try Server(config: ServerConfig(host: listen.host, port: listen.port, logger: config.logger),
                       services: [legacy, health.service])
        }
    }

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
        let interval = config.maintenanceInterval
        let task = Task.detached { [state] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                state.maintain()
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
    }
}
