// Fuzz target: every protobuf decode in GossipWire. The first input byte picks
// one of the 72 message types (gateway.v1, raft.v1, gossip.v1, compat
// GatewayService, grpc.testing, grpc.health.v1); the rest is fed to
// `Type(decoding:)`, `unknownFieldNumbers(in:)` and
// `stringFieldsContainingNUL(in:)`. Whatever decodes is re-encoded and decoded
// again: the second decode must succeed, equal the first value, and encode to
// the same bytes. A mismatch traps (fatalError), so libFuzzer reports it.
import FuzzDriver
import GossipWire

let messageTypes: [any WireMessage.Type] = [
    GRPCTesting.Empty.self, GRPCTesting.BoolValue.self, GRPCTesting.Payload.self,
    GRPCTesting.EchoStatus.self, GRPCTesting.SimpleRequest.self, GRPCTesting.SimpleResponse.self,
    GRPCTesting.StreamingInputCallRequest.self, GRPCTesting.StreamingInputCallResponse.self,
    GRPCTesting.ResponseParameters.self, GRPCTesting.StreamingOutputCallRequest.self,
    GRPCTesting.StreamingOutputCallResponse.self,
    GRPCHealth.HealthCheckRequest.self, GRPCHealth.HealthCheckResponse.self,
    GatewayV1.NodeAddress.self, GatewayV1.NodeEntry.self, GatewayV1.LeaderHint.self,
    GatewayV1.RegisterRequest.self, GatewayV1.RegisterResponse.self,
    GatewayV1.HeartbeatRequest.self, GatewayV1.HeartbeatResponse.self,
    GatewayV1.DeregisterRequest.self, GatewayV1.DeregisterResponse.self,
    GatewayV1.ListPeersRequest.self, GatewayV1.ListPeersResponse.self,
    GatewayV1.GetLeaderRequest.self, GatewayV1.GetLeaderResponse.self,
    GatewayV1.ReportMembershipRequest.self, GatewayV1.ReportMembershipResponse.self,
    CompatGateway.NodeInfo.self, CompatGateway.RegisterNodeRequest.self, CompatGateway.RegisterNodeResponse.self,
    CompatGateway.GetNodesRequest.self, CompatGateway.GetNodesResponse.self,
    CompatGateway.GetLeaderRequest.self, CompatGateway.GetLeaderResponse.self,
    CompatGateway.UpdateLeaderRequest.self, CompatGateway.UpdateLeaderResponse.self,
    CompatGateway.HeartbeatRequest.self, CompatGateway.HeartbeatResponse.self,
    CompatGateway.HealthCheckRequest.self, CompatGateway.HealthCheckResponse.self,
    CompatGateway.RemoveNodeRequest.self, CompatGateway.RemoveNodeResponse.self,
    CompatGateway.GetStatsRequest.self, CompatGateway.GetStatsResponse.self,
    RaftV1.Entry.self, RaftV1.RequestVoteRequest.self, RaftV1.RequestVoteResponse.self,
    RaftV1.AppendEntriesRequest.self, RaftV1.AppendEntriesResponse.self,
    RaftV1.InstallSnapshotRequest.self, RaftV1.InstallSnapshotResponse.self,
    RaftV1.TimeoutNowRequest.self, RaftV1.TimeoutNowResponse.self,
    RaftV1.Member.self, RaftV1.JoinRequest.self, RaftV1.JoinResponse.self,
    RaftV1.LeaveRequest.self, RaftV1.LeaveResponse.self,
    RaftV1.StatusRequest.self, RaftV1.StatusResponse.self,
    RaftV1.ReadIndexRequest.self, RaftV1.ReadIndexResponse.self,
    RaftV1.ClusterConfig.self, RaftV1.ProposeRequest.self, RaftV1.ProposeResponse.self,
    GossipV1.ModelValues.self, GossipV1.FetchModelRequest.self, GossipV1.ModelChunk.self,
    GossipV1.ProbeRequest.self, GossipV1.ProbeResponse.self, GossipV1.BandwidthReport.self,
    GossipV1.StatusRequest.self, GossipV1.TrainingStatus.self,
]

/// True when a Float or Double NaN appears anywhere in `value` (NaN != NaN, so
/// such values are compared by their encodings only).
func containsNaN(_ value: Any) -> Bool {
    if let d = value as? Double { return d.isNaN }
    if let f = value as? Float { return f.isNaN }
    return Mirror(reflecting: value).children.contains { containsNaN($0.value) }
}

func roundTrip<M: WireMessage>(_ type: M.Type, _ bytes: UnsafeRawBufferPointer) {
    _ = try? M.unknownFieldNumbers(in: bytes)
    _ = M.stringFieldsContainingNUL(in: bytes)
    guard let first = try? M(decoding: bytes) else { return }
    let encoded = first.encode()
    let second: M
    do {
        second = try M(decoding: encoded)
    } catch {
        fatalError("\(M.self): re-encoding of a decoded value does not decode: \(error); encoded \(encoded)")
    }
    let reencoded = second.encode()
    guard reencoded == encoded else {
        fatalError("\(M.self): encoding not stable: \(encoded) then \(reencoded)")
    }
    guard first == second || containsNaN(first) else {
        fatalError("\(M.self): round trip changed the value:\n\(first)\n\(second)")
    }
    // What we encode must carry no unknown fields and no NUL strings.
    let unknown = encoded.withUnsafeBytes { try? M.unknownFieldNumbers(in: $0) }
    guard unknown == [] else { fatalError("\(M.self): own encoding has unknown fields \(String(describing: unknown))") }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    guard let start, count > 0 else { return 0 }
    let input = UnsafeRawBufferPointer(start: start, count: count)
    let type = messageTypes[Int(input[0]) % messageTypes.count]
    roundTrip(type, UnsafeRawBufferPointer(rebasing: input[1...]))
    return 0
}

// SwiftPM links an executable with `main` aliased to `<Target>_main`, so that
// is where libFuzzer's driver is started from.
@_cdecl("FuzzWire_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzerDriver(argc, argv, fuzz)
}
