import Discovery
import DiscoveryClient
import Foundation
import Gateway
import GossipRPC
import Synchronization
import Testing

/// Collects a client's events for assertions.
final class EventLog: Sendable {
    private let events = Mutex<[DiscoveryEvent]>([])
    func record(_ event: DiscoveryEvent) { events.withLock { $0.append(event) } }
    var all: [DiscoveryEvent] { events.withLock { $0 } }

    func waitFor(timeout: Duration = .seconds(10), _ predicate: @escaping ([DiscoveryEvent]) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if predicate(all) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return predicate(all)
    }
}

@Suite(.timeLimit(.minutes(1)))
struct DiscoveryClientTests {
    private func config(cache: String?) -> DiscoveryClientConfig {
        DiscoveryClientConfig(heartbeatInterval: .milliseconds(50), callTimeout: .seconds(2),
                              retryBackoff: Backoff(initial: .milliseconds(20), multiplier: 2, maximum: .milliseconds(200), jitter: 0.2),
                              cacheDirectory: cache)
    }

    @Test func retriesWhileTheGatewayIsDownThenRegistersAndCaches() async throws {
        let cache = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: cache) }
        // Reserve a port for the gateway that is not up yet.
        let probe = try GatewayServer(config: GatewayConfig(port: 0))
        try probe.start()
        let port = probe.port
        await probe.shutdown()

        let log = EventLog()
        let client = try DiscoveryClient(gatewayHost: "127.0.0.1", gatewayPort: port,
                                         identity: DiscoveryIdentity(nodeID: "n1", host: "127.0.0.1", port: 9100),
                                         config: config(cache: cache)) { log.record($0) }
        #expect(client.latest == nil)
        client.start()
        #expect(await log.waitFor { $0.filter { if case .unreachable = $0 { true } else { false } }.count >= 3 })
        let delays = log.all.compactMap { event -> Duration? in if case .unreachable(_, let d) = event { d } else { nil } }
        #expect(delays[2] > delays[0], "backoff grows: \(delays)")
        #expect(delays.allSatisfy { $0 <= .milliseconds(240) }, "backoff is capped: \(delays)")

        let gateway = try GatewayServer(config: GatewayConfig(port: port))
        try gateway.start()
        #expect(await log.waitFor { $0.contains { if case .registered(let r) = $0 { r.bootstrap } else { false } } })
        #expect(await log.waitFor { $0.contains(.heartbeat(known: true)) })
        #expect(client.latest?.bootstrap == true)
        await client.stop()
        await gateway.shutdown()

        // A new run with the same cache knows the answer before reaching any gateway.
        let second = EventLog()
        let restarted = try DiscoveryClient(gatewayHost: "127.0.0.1", gatewayPort: port,
                                            identity: DiscoveryIdentity(nodeID: "n1", host: "127.0.0.1", port: 9100),
                                            config: config(cache: cache)) { second.record($0) }
        #expect(restarted.latest?.fromCache == true)
        #expect(restarted.latest?.clusterID != nil)
        guard case .cached(let cached)? = second.all.first else {
            Issue.record("expected a cached event first, got \(second.all)")
            return
        }
        #expect(cached.bootstrap)
        await restarted.stop()
    }

    @Test func reRegistersWhenTheGatewayForgotTheNode() async throws {
        try await withGateway { gateway, _ in
            let log = EventLog()
            let client = try DiscoveryClient(gatewayHost: "127.0.0.1", gatewayPort: gateway.port,
                                             identity: DiscoveryIdentity(nodeID: "n1", host: "127.0.0.1", port: 9100),
                                             config: config(cache: nil)) { log.record($0) }
            client.start()
            #expect(await log.waitFor { $0.contains(.heartbeat(known: true)) })
            gateway.state.withRegistry { registry, now in _ = registry.deregister(nodeID: "n1", now: now) }
            #expect(await log.waitFor { $0.contains(.heartbeat(known: false)) })
            #expect(await log.waitFor { events in events.filter { if case .registered = $0 { true } else { false } }.count >= 2 })
            #expect(gateway.state.read { registry, _ in registry.nodes["n1"] != nil })
            await client.stop()
        }
    }

    @Test func reportsReachTheGateway() async throws {
        try await withGateway { gateway, _ in
            let log = EventLog()
            let client = try DiscoveryClient(gatewayHost: "127.0.0.1", gatewayPort: gateway.port,
                                             identity: DiscoveryIdentity(nodeID: "leader", host: "127.0.0.1", port: 9100),
                                             config: config(cache: nil)) { log.record($0) }
            client.start()
            client.report(PendingReport(leaderID: "leader", term: 3,
                                        members: [("leader", "127.0.0.1", 9100), ("follower", "127.0.0.1", 9101)]))
            #expect(await log.waitFor { $0.contains(.reported(accepted: true, reason: "")) })
            let leader = gateway.state.read { registry, _ in registry.leader }
            #expect(leader?.nodeID == "leader")
            #expect(leader?.term == 3)
            #expect(gateway.state.read { registry, _ in registry.nodes["follower"]?.confirmed } == false)
            await client.stop()
        }
    }
}
