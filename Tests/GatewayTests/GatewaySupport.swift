import Discovery
import Foundation
import Gateway
import GossipRPC
import GossipWire
import Synchronization
import Testing

typealias G = GatewayV1
typealias C = CompatGateway

enum Methods {
    static let register = MethodDescriptor<G.RegisterRequest, G.RegisterResponse>(service: "gateway.v1.Gateway", method: "Register")
    static let heartbeat = MethodDescriptor<G.HeartbeatRequest, G.HeartbeatResponse>(service: "gateway.v1.Gateway", method: "Heartbeat")
    static let listPeers = MethodDescriptor<G.ListPeersRequest, G.ListPeersResponse>(service: "gateway.v1.Gateway", method: "ListPeers")
    static let report = MethodDescriptor<G.ReportMembershipRequest, G.ReportMembershipResponse>(
        service: "gateway.v1.Gateway", method: "ReportMembership")
    static let rawRegister = MethodDescriptor<RawBytes, RawBytes>(service: "gateway.v1.Gateway", method: "Register")
    static let compatRegister = MethodDescriptor<C.RegisterNodeRequest, C.RegisterNodeResponse>(
        service: "GatewayService", method: "RegisterNode")
    static let compatGetNodes = MethodDescriptor<C.GetNodesRequest, C.GetNodesResponse>(service: "GatewayService", method: "GetNodes")
    static let compatStats = MethodDescriptor<C.GetStatsRequest, C.GetStatsResponse>(service: "GatewayService", method: "GetStats")
}

/// Raw bytes as a message, to send requests our types cannot express.
struct RawBytes: WireMessage {
    var bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    init(decoding bytes: UnsafeRawBufferPointer) throws { self.bytes = Array(bytes) }
    func encode() -> [UInt8] { bytes }
}

/// A clock tests move by hand.
final class ManualClock: Sendable {
    private let time = Mutex(1_000_000.0)
    var now: Double { time.withLock { $0 } }
    func advance(_ seconds: Double) { time.withLock { $0 += seconds } }
}

func temporaryDirectory() -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("gossipfl-gw-\(UUID().uuidString)").path
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func registration(_ id: String, port: UInt32 = 9000, cluster: String = "") -> G.RegisterRequest {
    G.RegisterRequest(nodeId: id, address: G.NodeAddress(host: "127.0.0.1", port: port), capabilities: ["train"], clusterId: cluster)
}

/// Starts a gateway on a free port, runs `body` with a channel to it, shuts both down.
func withGateway<R>(
    dataDirectory: String? = nil, lease: Double = 30, clock: ManualClock? = nil,
    _ body: (GatewayServer, Channel) async throws -> R
) async throws -> R {
    let config = GatewayConfig(port: 0, dataDirectory: dataDirectory, registry: RegistryConfig(leaseSeconds: lease))
    let gateway = try clock.map { clock in try GatewayServer(config: config, clock: { clock.now }) } ?? GatewayServer(config: config)
    try gateway.start()
    let channel = try Channel(host: "127.0.0.1", port: gateway.port)
    do {
        let result = try await body(gateway, channel)
        await channel.close()
        await gateway.shutdown()
        return result
    } catch {
        await channel.close()
        await gateway.shutdown()
        throw error
    }
}

@discardableResult
func expectRPCError(_ code: StatusCode, sourceLocation: SourceLocation = #_sourceLocation,
                    _ body: () async throws -> Void) async -> RPCError? {
    do {
        try await body()
        Issue.record("expected \(code), but the call succeeded", sourceLocation: sourceLocation)
    } catch let error as RPCError {
        #expect(error.code == code, "got \(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected RPCError \(code), got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
