import GossipWire
import Testing

/// One golden file and the Swift value it must decode to. Names and values
/// mirror `samples()` in Golden/make_golden.py.
struct GoldenCase: Sendable, CustomTestStringConvertible {
    enum Encoding: Sendable {
        /// protobuf-c produces exactly the golden bytes.
        case identical
        /// The golden bytes carry fields we do not model; our encoding is
        /// the golden bytes without that suffix.
        case dropsUnknownFields
        /// Python writes map entries differently (order, default key/value);
        /// both decode to the same value.
        case mapLayoutDiffers
    }

    let name: String
    let value: any WireMessage
    var encoding: Encoding = .identical

    var testDescription: String { name }
}

private let unicodeText = "héllo wörld ✓ 日本語 🚀"
private let address = GatewayV1.NodeAddress(host: "10.0.0.7", port: 50051)
private let entryA = GatewayV1.NodeEntry(
    nodeId: "node-a", address: address, capabilities: ["raft", "gossip"], ageSeconds: 1.5, stale: true)
private let entryB = GatewayV1.NodeEntry(
    nodeId: "nœud-b", address: GatewayV1.NodeAddress(host: "::1", port: 65535), capabilities: ["ünïcode"],
    ageSeconds: 0.001)
private let leader = GatewayV1.LeaderHint(nodeId: "node-a", term: .max, address: address, ageSeconds: 0.25)
private let members = [
    RaftV1.Member(nodeId: "n1", address: "10.0.0.1:7000", voter: true),
    RaftV1.Member(nodeId: "n2", address: "10.0.0.2:7000"),
]

private let staleLeader = GatewayV1.LeaderHint(
    nodeId: "nœud-b", term: 8, address: GatewayV1.NodeAddress(host: "::1", port: 65535), ageSeconds: 12.5,
    stale: true)
private let registerRequest = GatewayV1.RegisterRequest(
    nodeId: "node-c", address: address, capabilities: ["raft", "gossip", ""], clusterId: "c1")
private let nodeA = CompatGateway.NodeInfo(
    nodeId: -7, ipAddress: "192.168.1.20", port: 50052, capabilities: ["training", "aggregation"],
    status: "active", lastSeen: 1_732_550_400.25, joinTimestamp: 1_732_540_000.5,
    metadata: ["region": "eu-west-1", "gpu": "A100", "rôle": "übermensch ✓"])
private let nodeB = CompatGateway.NodeInfo(
    nodeId: .max, ipAddress: "::1", port: 8080, status: "active", lastSeen: 0.001,
    metadata: ["zone": "日本", "rack": "r-12"])

let goldenCases: [GoldenCase] =
    grpcTestingCases + healthCases + gatewayCases + gatewayAdditionCases + compatCases + raftCases + gossipCases

private let grpcTestingCases: [GoldenCase] = [
    .init(name: "grpc_testing_empty", value: GRPCTesting.Empty()),
    .init(name: "grpc_testing_bool_value", value: GRPCTesting.BoolValue(value: true)),
    .init(name: "grpc_testing_payload", value: GRPCTesting.Payload(type: .compressable, body: pattern(300))),
    .init(
        name: "grpc_testing_payload_unknown_enum",
        value: GRPCTesting.Payload(type: GRPCTesting.PayloadType(rawValue: 7), body: [0])),
    .init(name: "grpc_testing_echo_status", value: GRPCTesting.EchoStatus(code: -1, message: unicodeText)),
    .init(
        name: "grpc_testing_simple_request",
        value: GRPCTesting.SimpleRequest(
            responseType: .compressable, responseSize: 314_159,
            payload: GRPCTesting.Payload(body: [UInt8](repeating: 0, count: 2718)),
            fillUsername: true, fillOauthScope: true,
            responseCompressed: GRPCTesting.BoolValue(value: true),
            responseStatus: GRPCTesting.EchoStatus(code: 2, message: "test status message"),
            expectCompressed: GRPCTesting.BoolValue(value: false),
            fillServerId: true, fillGrpclbRouteType: true)),
    .init(
        name: "grpc_testing_simple_response",
        value: GRPCTesting.SimpleResponse(
            payload: GRPCTesting.Payload(body: [1, 2, 3]), username: "user@example.com",
            oauthScope: "https://www.googleapis.com/auth/xapi.zoo", serverId: "server-1",
            grpclbRouteType: .backend, hostname: "höst.example")),
    .init(
        name: "grpc_testing_streaming_input_call_request",
        value: GRPCTesting.StreamingInputCallRequest(
            payload: GRPCTesting.Payload(body: pattern(1024)), expectCompressed: GRPCTesting.BoolValue(value: true))),
    .init(
        name: "grpc_testing_streaming_input_call_response",
        value: GRPCTesting.StreamingInputCallResponse(aggregatedPayloadSize: 74922)),
    .init(
        name: "grpc_testing_response_parameters",
        value: GRPCTesting.ResponseParameters(
            size: -5, intervalUs: 1_000_000, compressed: GRPCTesting.BoolValue(value: false))),
    .init(
        name: "grpc_testing_streaming_output_call_request",
        value: GRPCTesting.StreamingOutputCallRequest(
            responseType: .compressable,
            responseParameters: [
                GRPCTesting.ResponseParameters(size: 31415),
                GRPCTesting.ResponseParameters(),
                GRPCTesting.ResponseParameters(
                    size: 2653, intervalUs: 10, compressed: GRPCTesting.BoolValue(value: true)),
            ],
            payload: GRPCTesting.Payload(body: pattern(3141)),
            responseStatus: GRPCTesting.EchoStatus(code: 13, message: ""))),
    .init(
        name: "grpc_testing_streaming_output_call_response",
        value: GRPCTesting.StreamingOutputCallResponse(payload: GRPCTesting.Payload())),
]

private let healthCases: [GoldenCase] = [
    .init(
        name: "grpc_health_check_request",
        value: GRPCHealth.HealthCheckRequest(service: "grpc.testing.TestService")),
    .init(name: "grpc_health_check_response", value: GRPCHealth.HealthCheckResponse(status: .serving)),
    .init(
        name: "grpc_health_check_response_unknown_status",
        value: GRPCHealth.HealthCheckResponse(status: .init(rawValue: 42))),
    .init(
        name: "grpc_health_check_request_unknown_fields",
        value: GRPCHealth.HealthCheckRequest(service: "svc"), encoding: .dropsUnknownFields),
]

private let gatewayCases: [GoldenCase] = [
    .init(name: "gateway_node_address", value: address),
    .init(name: "gateway_node_entry", value: entryA),
    .init(name: "gateway_leader_hint", value: leader),
    .init(name: "gateway_register_request", value: registerRequest),
    .init(name: "gateway_register_request_unknown_field", value: registerRequest, encoding: .dropsUnknownFields),
    .init(
        name: "gateway_register_response",
        value: GatewayV1.RegisterResponse(
            bootstrap: true, peers: [entryA, entryB], leader: leader, leaseSeconds: .max, clusterId: "c1")),
    .init(name: "gateway_heartbeat_request", value: GatewayV1.HeartbeatRequest(nodeId: "node-a")),
    .init(name: "gateway_heartbeat_response", value: GatewayV1.HeartbeatResponse(leaseSeconds: 30, known: true)),
    .init(name: "gateway_deregister_request", value: GatewayV1.DeregisterRequest(nodeId: "node-a")),
    .init(name: "gateway_deregister_response", value: GatewayV1.DeregisterResponse(removed: true)),
    .init(name: "gateway_list_peers_request", value: GatewayV1.ListPeersRequest()),
    .init(
        name: "gateway_list_peers_response",
        value: GatewayV1.ListPeersResponse(peers: [entryB, GatewayV1.NodeEntry()])),
    .init(name: "gateway_get_leader_request", value: GatewayV1.GetLeaderRequest()),
    .init(name: "gateway_get_leader_response", value: GatewayV1.GetLeaderResponse(leader: GatewayV1.LeaderHint())),
    .init(
        name: "gateway_report_membership_request",
        value: GatewayV1.ReportMembershipRequest(
            reporterId: "node-b", leaderId: "node-a", term: 7, members: [entryA, entryB])),
    .init(name: "gateway_report_membership_response", value: GatewayV1.ReportMembershipResponse(accepted: true)),
]

/// Fields added to gateway.v1 after its first draft.
private let gatewayAdditionCases: [GoldenCase] = [
    .init(name: "gateway_leader_hint_stale", value: staleLeader),
    .init(
        name: "gateway_register_response_registry_version",
        value: GatewayV1.RegisterResponse(
            peers: [entryB], leader: staleLeader, leaseSeconds: 15, clusterId: "clüster-1", registryVersion: .max)),
    .init(
        name: "gateway_list_peers_response_registry_version",
        value: GatewayV1.ListPeersResponse(peers: [entryA, entryB], registryVersion: 42)),
    .init(
        name: "gateway_report_membership_request_reported_at",
        value: GatewayV1.ReportMembershipRequest(
            reporterId: "node-b", leaderId: "nœud-b", term: 8, members: [entryB], reportedAtUnix: 1_732_550_400.125,
            clusterId: "c1")),
    .init(
        name: "gateway_report_membership_response_rejected",
        value: GatewayV1.ReportMembershipResponse(accepted: false, reason: "older than the term 9 report from nœud-b")),
]

private let compatCases: [GoldenCase] = [
    .init(name: "compat_node_info", value: nodeA),
    .init(
        name: "compat_node_info_default_metadata_entries",
        value: CompatGateway.NodeInfo(metadata: ["": "x", "a": "", "ab": "y"]), encoding: .mapLayoutDiffers),
    .init(
        name: "compat_register_node_request",
        value: CompatGateway.RegisterNodeRequest(
            nodeId: .min, ipAddress: "10.0.0.9", port: 50053, capabilities: ["training", ""],
            metadata: ["host": "gpu-box-3", "python": "3.11", "emoji": "🚀"])),
    .init(
        name: "compat_register_node_response",
        value: CompatGateway.RegisterNodeResponse(
            status: "registered", nodeId: -7, isBootstrap: true, registryVersion: 12, nodes: [nodeA, nodeB],
            leader: nodeB, message: "Node -7 registered – welcome")),
    .init(name: "compat_get_nodes_request", value: CompatGateway.GetNodesRequest(requestingNodeId: -3)),
    .init(
        name: "compat_get_nodes_response",
        value: CompatGateway.GetNodesResponse(nodes: [nodeB, CompatGateway.NodeInfo()], registryVersion: 13)),
    .init(name: "compat_get_leader_request", value: CompatGateway.GetLeaderRequest()),
    .init(
        name: "compat_get_leader_response",
        value: CompatGateway.GetLeaderResponse(leader: nodeA, registryVersion: 13, message: "leader known")),
    .init(name: "compat_update_leader_request", value: CompatGateway.UpdateLeaderRequest(leaderId: -7)),
    .init(
        name: "compat_update_leader_response",
        value: CompatGateway.UpdateLeaderResponse(status: "updated", leaderId: -7, message: "Leader updated to -7")),
    .init(name: "compat_heartbeat_request", value: CompatGateway.HeartbeatRequest(nodeId: -7)),
    .init(
        name: "compat_heartbeat_response",
        value: CompatGateway.HeartbeatResponse(status: "acknowledged", registryVersion: 14)),
    .init(name: "compat_health_check_request", value: CompatGateway.HealthCheckRequest()),
    .init(
        name: "compat_health_check_response",
        value: CompatGateway.HealthCheckResponse(status: "healthy", timestamp: 1_732_550_400.75, version: "1.0.0-ç")),
    .init(name: "compat_remove_node_request", value: CompatGateway.RemoveNodeRequest(nodeId: .min)),
    .init(
        name: "compat_remove_node_response",
        value: CompatGateway.RemoveNodeResponse(
            status: "not_found", nodeId: .min, message: "Node -2147483648 not found")),
    .init(name: "compat_get_stats_request", value: CompatGateway.GetStatsRequest()),
    .init(
        name: "compat_get_stats_response",
        value: CompatGateway.GetStatsResponse(
            totalNodes: 5, activeNodes: 3, leaderId: -7, registryVersion: 14, bootstrapInitiated: true,
            uptime: 86400.5)),
]

private let raftCases: [GoldenCase] = [
    .init(
        name: "raft_entry",
        value: RaftV1.Entry(term: 3, index: (1 << 63) + 1, type: .entryConfigChange, data: pattern(64))),
    .init(
        name: "raft_request_vote_request",
        value: RaftV1.RequestVoteRequest(
            term: 5, candidateId: "n2", lastLogIndex: 41, lastLogTerm: 4, preVote: true, leadershipTransfer: true)),
    .init(
        name: "raft_request_vote_response",
        value: RaftV1.RequestVoteResponse(term: 5, voteGranted: true, preVote: true)),
    .init(
        name: "raft_append_entries_request",
        value: RaftV1.AppendEntriesRequest(
            term: 6, leaderId: "n1", prevLogIndex: 10, prevLogTerm: 5,
            entries: [
                RaftV1.Entry(term: 6, index: 11, data: Array("set x=1".utf8)),
                RaftV1.Entry(term: 6, index: 12, type: .entryNoop),
                RaftV1.Entry(term: 6, index: 13, type: .init(rawValue: 9), data: [0xFF, 0x00]),
            ],
            leaderCommit: 10)),
    .init(
        name: "raft_append_entries_response",
        value: RaftV1.AppendEntriesResponse(
            term: 6, success: true, matchIndex: 13, conflictIndex: 1 << 40, conflictTerm: 1)),
    .init(
        name: "raft_install_snapshot_request",
        value: RaftV1.InstallSnapshotRequest(
            term: 9, leaderId: "n1", lastIncludedIndex: 1000, lastIncludedTerm: 8, offset: 1 << 33,
            data: pattern(4096), done: true)),
    .init(name: "raft_install_snapshot_response", value: RaftV1.InstallSnapshotResponse(term: 9)),
    .init(name: "raft_timeout_now_request", value: RaftV1.TimeoutNowRequest(term: 10, leaderId: "n1")),
    .init(name: "raft_timeout_now_response", value: RaftV1.TimeoutNowResponse(term: 10)),
    .init(name: "raft_member", value: members[0]),
    .init(name: "raft_join_request", value: RaftV1.JoinRequest(nodeId: "n3", address: "10.0.0.3:7000")),
    .init(
        name: "raft_join_response",
        value: RaftV1.JoinResponse(
            accepted: true, leaderId: "n1", leaderAddress: "10.0.0.1:7000", members: members)),
    .init(name: "raft_leave_request", value: RaftV1.LeaveRequest(nodeId: "n3")),
    .init(
        name: "raft_leave_response",
        value: RaftV1.LeaveResponse(accepted: false, leaderId: "n1", leaderAddress: "10.0.0.1:7000")),
    .init(name: "raft_status_request", value: RaftV1.StatusRequest(linearizable: true)),
    .init(
        name: "raft_status_response",
        value: RaftV1.StatusResponse(
            nodeId: "n1", term: 11, leaderId: "n1", commitIndex: 99, appliedIndex: 98, members: members,
            role: "leader")),
    // Fields and messages added with the driver.
    .init(name: "raft_request_vote_response_ignored", value: RaftV1.RequestVoteResponse(term: 5, ignored: true)),
    .init(
        name: "raft_append_entries_request_read_round",
        value: RaftV1.AppendEntriesRequest(
            term: 6, leaderId: "n1", prevLogIndex: 10, prevLogTerm: 5, leaderCommit: 10, readRound: (1 << 50) + 3)),
    .init(
        name: "raft_append_entries_response_rejected",
        value: RaftV1.AppendEntriesResponse(
            term: 6, success: false, conflictIndex: 4, conflictTerm: 2, rejectedIndex: 10, readRound: 7, ignored: true)),
    .init(
        name: "raft_install_snapshot_request_config",
        value: RaftV1.InstallSnapshotRequest(
            term: 9, leaderId: "n1", lastIncludedIndex: 1000, lastIncludedTerm: 8, data: pattern(16),
            config: RaftV1.ClusterConfig(members: members, removed: ["n0", "n9"]))),
    .init(
        name: "raft_install_snapshot_response_match",
        value: RaftV1.InstallSnapshotResponse(term: 9, matchIndex: 1000, ignored: true)),
    .init(
        name: "raft_read_index_request",
        value: RaftV1.ReadIndexRequest(term: 12, fromId: "n2", context: Array("n2".utf8) + [1, 0])),
    .init(
        name: "raft_read_index_response",
        value: RaftV1.ReadIndexResponse(term: 12, context: Array("n2".utf8) + [1, 0], index: 1 << 33, ignored: true)),
    .init(name: "raft_cluster_config", value: RaftV1.ClusterConfig(members: members, removed: ["n0"])),
    .init(name: "raft_propose_request", value: RaftV1.ProposeRequest(data: pattern(100))),
    .init(
        name: "raft_propose_response",
        value: RaftV1.ProposeResponse(committed: true, index: 77, term: 4, leaderId: "n1", leaderAddress: "10.0.0.1:7000")),
    .init(
        name: "raft_read_entries_request",
        value: RaftV1.ReadEntriesRequest(fromIndex: (1 << 40) + 3, maxEntries: 64, maxBytes: UInt32.max)),
    .init(
        name: "raft_read_entries_response",
        value: RaftV1.ReadEntriesResponse(
            entries: [RaftV1.Entry(term: 6, index: 11, data: Array("set x=1".utf8)), RaftV1.Entry(term: 6, index: 12, type: .entryNoop)],
            nextIndex: 13, commitIndex: 40, firstIndex: 9)),
    .init(
        name: "raft_status_response_full",
        value: RaftV1.StatusResponse(
            nodeId: "n2", term: 11, leaderId: "n1", commitIndex: 99, appliedIndex: 98, members: members,
            role: "follower", lastIndex: 120, leaderAddress: "10.0.0.1:7000", snapshotIndex: 64)),
]

private let trainingConfig: GossipV1.TrainingConfig = {
    var config = GossipV1.TrainingConfig()
    config.runId = "run-7"
    config.model = "mlp"
    config.dataset = "fashion-mnist"
    config.partition = "dirichlet:0.5"
    config.slots = 8
    config.seed = .max
    config.algorithm = "saps"
    config.keepFraction = 0.01
    config.learningRate = 0.05
    config.learningRateDecay = 0.992
    config.momentum = 0.9
    config.weightDecay = 1e-4
    config.batchSize = 50
    config.roundsPerEpoch = 150
    config.rounds = 1200
    config.bandwidthThreshold = 3
    config.roundThreshold = 3
    return config
}()

private let gossipCases: [GoldenCase] = [
    .init(
        name: "gossip_model_values",
        value: GossipV1.ModelValues(
            runId: "run-7", round: 12, senderId: "n2", encoding: .float32LE,
            values: [0x00, 0x00, 0x00, 0x3F, 0x00, 0x00, 0xA0, 0xBF, 0xFF, 0xFF, 0x7F, 0x7F, 0x01, 0x00, 0x00, 0x00])),
    .init(
        name: "gossip_model_values_half",
        value: GossipV1.ModelValues(
            runId: "run-7", round: .max, senderId: "nœud-3", encoding: .float16LEScaled, values: [0x00, 0x3C, 0x00, 0xBC, 0xFF, 0x7B],
            scales: [0.5, .greatestFiniteMagnitude, .leastNonzeroMagnitude, -0.0], blockLengths: [1, 2, 0, .max])),
    .init(name: "gossip_fetch_model_request", value: GossipV1.FetchModelRequest(runId: "run-7", requesterId: "n5", chunkValues: 262_144)),
    .init(
        name: "gossip_model_chunk",
        value: GossipV1.ModelChunk(
            runId: "run-7", round: 40, architecture: "cnn", totalValues: 1_663_370, offset: 1_572_864, values: pattern(1000),
            crc32c: .max)),
    .init(name: "gossip_probe_request", value: GossipV1.ProbeRequest(senderId: "n2", payload: pattern(1000), replyBytes: 65536)),
    .init(name: "gossip_probe_response", value: GossipV1.ProbeResponse(payload: pattern(300))),
    .init(
        name: "gossip_bandwidth_report",
        value: GossipV1.BandwidthReport(reporterId: "n1", mbpsToPeer: ["n2": 940.5, "n3": 0.125, "nœud-4": 1e-3])),
    .init(
        name: "gossip_bandwidth_report_default_entries",
        value: GossipV1.BandwidthReport(mbpsToPeer: ["": 0, "a": 2, "ab": 0]), encoding: .mapLayoutDiffers),
    .init(name: "gossip_training_command_configure", value: GossipV1.TrainingCommand(configure: trainingConfig)),
    .init(name: "gossip_training_command_admit",
          value: GossipV1.TrainingCommand(admit: GossipV1.Admission(nodeId: "n5", fromRound: 1200, slot: 4))),
    .init(name: "gossip_training_command_retire",
          value: GossipV1.TrainingCommand(retire: GossipV1.Retirement(nodeId: "n2", fromRound: 77, reason: "missed 5 rounds"))),
    .init(name: "gossip_training_command_bandwidth",
          value: GossipV1.TrainingCommand(bandwidth: GossipV1.BandwidthMatrix(workers: ["n1", "n2"], mbps: [0, 12.5, 12.5, 0], fromRound: 300))),
    .init(name: "gossip_training_command_progress",
          value: GossipV1.TrainingCommand(progress: GossipV1.ProgressReport(nodeId: "n3", round: 150, testAccuracy: 0.8125))),
    .init(name: "gossip_training_command_empty", value: GossipV1.TrainingCommand()),
    .init(name: "gossip_training_config", value: trainingConfig),
    .init(name: "gossip_admission", value: GossipV1.Admission(nodeId: "nœud-9", fromRound: .max, slot: .max)),
    .init(name: "gossip_retirement", value: GossipV1.Retirement(nodeId: "n2", fromRound: 1, reason: "")),
    .init(name: "gossip_bandwidth_matrix",
          value: GossipV1.BandwidthMatrix(workers: ["a", "b", "c"], mbps: [0, 1, 2, 1, 0, 0.5, 2, 0.5, 0], fromRound: 0)),
    .init(name: "gossip_progress_report", value: GossipV1.ProgressReport(nodeId: "n1", round: 9, testAccuracy: 1)),
    .init(name: "gossip_status_request", value: GossipV1.StatusRequest()),
    .init(name: "gossip_admission_external", value: GossipV1.Admission(nodeId: "py1", fromRound: 64, slot: 3, address: "10.0.0.7:7300")),
    .init(name: "gossip_follow_training_request", value: GossipV1.FollowTrainingRequest(followerId: "py1")),
    .init(name: "gossip_committed_training",
          value: GossipV1.CommittedTraining(index: 41, command: GossipV1.TrainingCommand(horizon: GossipV1.RoundHorizon(untilRound: 96)))),
    .init(
        name: "gossip_training_status",
        value: GossipV1.TrainingStatus(
            nodeId: "n1", runId: "run-7", round: 1234, epoch: 8.25, training: true, partnerId: "n4", testAccuracy: 0.8613,
            evaluatedRound: 1200, megabytesSent: 9.57)),
]
