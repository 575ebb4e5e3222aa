#!/usr/bin/env python3
"""Writes the golden wire encodings that GossipWireTests checks against.

The reference encoder is the official Python protobuf runtime (upb), fed the
same Protos/ the Swift side is generated from. Each sample becomes
`<name>.bin` in the output directory (this directory by default). The Swift
tests hold the matching Swift values under the same names, so renaming or
adding a sample here needs the same change in GoldenCases.swift.

Usage: make_golden.py [--out DIR]
Needs grpcio-tools and protobuf (e.g. /tmp/probe-venv/bin/python).
"""

import argparse
import importlib
import pathlib
import struct
import sys
import tempfile

from grpc_tools import protoc

HERE = pathlib.Path(__file__).resolve().parent
PROTOS = HERE.parents[2] / "Protos"


def compile_protos(out_dir: pathlib.Path) -> None:
    """Generates *_pb2.py for every .proto and makes them importable."""
    files = sorted(p.relative_to(PROTOS).as_posix() for p in PROTOS.rglob("*.proto"))
    status = protoc.main(["protoc", f"-I{PROTOS}", f"--python_out={out_dir}", *files])
    if status != 0:
        sys.exit(f"protoc failed with status {status}")
    sys.path.insert(0, str(out_dir))


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def unknown_fields() -> bytes:
    """Fields numbered beyond anything in our protos, one per wire type."""
    return b"".join([
        varint(99 << 3 | 0) + varint(150),                        # varint
        varint(100 << 3 | 2) + varint(3) + b"abc",               # length-delimited
        varint(101 << 3 | 5) + struct.pack("<I", 0xDEADBEEF),    # fixed32
        varint(102 << 3 | 1) + struct.pack("<Q", 2**64 - 1),     # fixed64
    ])


def pattern(n: int) -> bytes:
    """Deterministic non-trivial bytes (every value 0...250 appears)."""
    return bytes(i % 251 for i in range(n))


def samples() -> dict[str, bytes]:
    empty = importlib.import_module("grpc_testing.empty_pb2")
    msgs = importlib.import_module("grpc_testing.messages_pb2")
    health = importlib.import_module("grpc_health.v1.health_pb2")
    gw = importlib.import_module("gateway.v1.gateway_pb2")
    raft = importlib.import_module("raft.v1.raft_pb2")
    gossip = importlib.import_module("gossip.v1.gossip_pb2")
    compat = importlib.import_module("compat.gateway_service_pb2")

    unicode_text = "héllo wörld ✓ 日本語 🚀"
    address = gw.NodeAddress(host="10.0.0.7", port=50051)
    entry_a = gw.NodeEntry(node_id="node-a", address=address, capabilities=["raft", "gossip"],
                           age_seconds=1.5, stale=True)
    entry_b = gw.NodeEntry(node_id="nœud-b", address=gw.NodeAddress(host="::1", port=65535),
                           capabilities=["ünïcode"], age_seconds=0.001)
    leader = gw.LeaderHint(node_id="node-a", term=2**64 - 1, address=address, age_seconds=0.25)
    members = [raft.Member(node_id="n1", address="10.0.0.1:7000", voter=True),
               raft.Member(node_id="n2", address="10.0.0.2:7000")]
    stale_leader = gw.LeaderHint(node_id="nœud-b", term=8, address=gw.NodeAddress(host="::1", port=65535),
                                 age_seconds=12.5, stale=True)
    register_request = gw.RegisterRequest(
        node_id="node-c", address=address, capabilities=["raft", "gossip", ""], cluster_id="c1")
    # Negative node ids are 10-byte varints; no metadata key prefixes another.
    node_a = compat.NodeInfo(
        node_id=-7, ip_address="192.168.1.20", port=50052, capabilities=["training", "aggregation"],
        status="active", last_seen=1732550400.25, join_timestamp=1732540000.5,
        metadata={"region": "eu-west-1", "gpu": "A100", "rôle": "übermensch ✓"})
    node_b = compat.NodeInfo(
        node_id=2**31 - 1, ip_address="::1", port=8080, status="active", last_seen=0.001,
        metadata={"zone": "日本", "rack": "r-12"})

    m = {
        # grpc.testing
        "grpc_testing_empty": empty.Empty(),
        "grpc_testing_bool_value": msgs.BoolValue(value=True),
        "grpc_testing_payload": msgs.Payload(type=msgs.COMPRESSABLE, body=pattern(300)),
        "grpc_testing_payload_unknown_enum": msgs.Payload(type=7, body=b"\x00"),
        "grpc_testing_echo_status": msgs.EchoStatus(code=-1, message=unicode_text),
        "grpc_testing_simple_request": msgs.SimpleRequest(
            response_type=msgs.COMPRESSABLE, response_size=314159,
            payload=msgs.Payload(body=b"\x00" * 2718), fill_username=True, fill_oauth_scope=True,
            response_compressed=msgs.BoolValue(value=True),
            response_status=msgs.EchoStatus(code=2, message="test status message"),
            # Present but empty: presence must survive the round trip.
            expect_compressed=msgs.BoolValue(value=False),
            fill_server_id=True, fill_grpclb_route_type=True),
        "grpc_testing_simple_response": msgs.SimpleResponse(
            payload=msgs.Payload(body=b"\x01\x02\x03"), username="user@example.com",
            oauth_scope="https://www.googleapis.com/auth/xapi.zoo", server_id="server-1",
            grpclb_route_type=msgs.GRPCLB_ROUTE_TYPE_BACKEND, hostname="höst.example"),
        "grpc_testing_streaming_input_call_request": msgs.StreamingInputCallRequest(
            payload=msgs.Payload(body=pattern(1024)), expect_compressed=msgs.BoolValue(value=True)),
        "grpc_testing_streaming_input_call_response": msgs.StreamingInputCallResponse(
            aggregated_payload_size=74922),
        "grpc_testing_response_parameters": msgs.ResponseParameters(
            size=-5, interval_us=1_000_000, compressed=msgs.BoolValue(value=False)),
        "grpc_testing_streaming_output_call_request": msgs.StreamingOutputCallRequest(
            response_type=msgs.COMPRESSABLE,
            response_parameters=[msgs.ResponseParameters(size=31415),
                                 msgs.ResponseParameters(),
                                 msgs.ResponseParameters(size=2653, interval_us=10,
                                                         compressed=msgs.BoolValue(value=True))],
            payload=msgs.Payload(body=pattern(3141)),
            response_status=msgs.EchoStatus(code=13, message="")),
        "grpc_testing_streaming_output_call_response": msgs.StreamingOutputCallResponse(
            payload=msgs.Payload()),

        # grpc.health.v1
        "grpc_health_check_request": health.HealthCheckRequest(service="grpc.testing.TestService"),
        "grpc_health_check_response": health.HealthCheckResponse(
            status=health.HealthCheckResponse.SERVING),
        "grpc_health_check_response_unknown_status": health.HealthCheckResponse(status=42),

        # gateway.v1
        "gateway_node_address": address,
        "gateway_node_entry": entry_a,
        "gateway_leader_hint": leader,
        "gateway_register_request": register_request,
        "gateway_register_response": gw.RegisterResponse(
            bootstrap=True, peers=[entry_a, entry_b], leader=leader, lease_seconds=2**32 - 1,
            cluster_id="c1"),
        "gateway_heartbeat_request": gw.HeartbeatRequest(node_id="node-a"),
        "gateway_heartbeat_response": gw.HeartbeatResponse(lease_seconds=30, known=True),
        "gateway_deregister_request": gw.DeregisterRequest(node_id="node-a"),
        "gateway_deregister_response": gw.DeregisterResponse(removed=True),
        "gateway_list_peers_request": gw.ListPeersRequest(),
        "gateway_list_peers_response": gw.ListPeersResponse(peers=[entry_b, gw.NodeEntry()]),
        "gateway_get_leader_request": gw.GetLeaderRequest(),
        "gateway_get_leader_response": gw.GetLeaderResponse(leader=gw.LeaderHint()),
        "gateway_report_membership_request": gw.ReportMembershipRequest(
            reporter_id="node-b", leader_id="node-a", term=7, members=[entry_a, entry_b]),
        "gateway_report_membership_response": gw.ReportMembershipResponse(accepted=True),
        # gateway.v1 fields added after the first draft
        "gateway_leader_hint_stale": stale_leader,
        "gateway_register_response_registry_version": gw.RegisterResponse(
            peers=[entry_b], leader=stale_leader, lease_seconds=15, cluster_id="clüster-1",
            registry_version=2**64 - 1),
        "gateway_list_peers_response_registry_version": gw.ListPeersResponse(
            peers=[entry_a, entry_b], registry_version=42),
        "gateway_report_membership_request_reported_at": gw.ReportMembershipRequest(
            reporter_id="node-b", leader_id="nœud-b", term=8, members=[entry_b],
            reported_at_unix=1732550400.125, cluster_id="c1"),
        "gateway_report_membership_response_rejected": gw.ReportMembershipResponse(
            accepted=False, reason="older than the term 9 report from nœud-b"),

        # compat (GatewayService of the Python GossipFL nodes)
        "compat_node_info": node_a,
        "compat_register_node_request": compat.RegisterNodeRequest(
            node_id=-2**31, ip_address="10.0.0.9", port=50053, capabilities=["training", ""],
            metadata={"host": "gpu-box-3", "python": "3.11", "emoji": "🚀"}),
        "compat_register_node_response": compat.RegisterNodeResponse(
            status="registered", node_id=-7, is_bootstrap=True, registry_version=12,
            nodes=[node_a, node_b], leader=node_b, message="Node -7 registered – welcome"),
        "compat_get_nodes_request": compat.GetNodesRequest(requesting_node_id=-3),
        "compat_get_nodes_response": compat.GetNodesResponse(
            nodes=[node_b, compat.NodeInfo()], registry_version=13),
        "compat_get_leader_request": compat.GetLeaderRequest(),
        "compat_get_leader_response": compat.GetLeaderResponse(
            leader=node_a, registry_version=13, message="leader known"),
        "compat_update_leader_request": compat.UpdateLeaderRequest(leader_id=-7),
        "compat_update_leader_response": compat.UpdateLeaderResponse(
            status="updated", leader_id=-7, message="Leader updated to -7"),
        "compat_heartbeat_request": compat.HeartbeatRequest(node_id=-7),
        "compat_heartbeat_response": compat.HeartbeatResponse(status="acknowledged", registry_version=14),
        "compat_health_check_request": compat.HealthCheckRequest(),
        "compat_health_check_response": compat.HealthCheckResponse(
            status="healthy", timestamp=1732550400.75, version="1.0.0-ç"),
        "compat_remove_node_request": compat.RemoveNodeRequest(node_id=-2**31),
        "compat_remove_node_response": compat.RemoveNodeResponse(
            status="not_found", node_id=-2**31, message="Node -2147483648 not found"),
        "compat_get_stats_request": compat.GetStatsRequest(),
        "compat_get_stats_response": compat.GetStatsResponse(
            total_nodes=5, active_nodes=3, leader_id=-7, registry_version=14, bootstrap_initiated=True,
            uptime=86400.5),

        # raft.v1
        "raft_entry": raft.Entry(term=3, index=2**63 + 1, type=raft.ENTRY_CONFIG_CHANGE,
                                 data=pattern(64)),
        "raft_request_vote_request": raft.RequestVoteRequest(
            term=5, candidate_id="n2", last_log_index=41, last_log_term=4, pre_vote=True,
            leadership_transfer=True),
        "raft_request_vote_response": raft.RequestVoteResponse(term=5, vote_granted=True, pre_vote=True),
        "raft_append_entries_request": raft.AppendEntriesRequest(
            term=6, leader_id="n1", prev_log_index=10, prev_log_term=5,
            entries=[raft.Entry(term=6, index=11, data=b"set x=1"),
                     raft.Entry(term=6, index=12, type=raft.ENTRY_NOOP),
                     raft.Entry(term=6, index=13, type=9, data=b"\xff\x00")],
            leader_commit=10),
        "raft_append_entries_response": raft.AppendEntriesResponse(
            term=6, success=True, match_index=13, conflict_index=2**40, conflict_term=1),
        "raft_install_snapshot_request": raft.InstallSnapshotRequest(
            term=9, leader_id="n1", last_included_index=1000, last_included_term=8,
            offset=2**33, data=pattern(4096), done=True),
        "raft_install_snapshot_response": raft.InstallSnapshotResponse(term=9),
        "raft_timeout_now_request": raft.TimeoutNowRequest(term=10, leader_id="n1"),
        "raft_timeout_now_response": raft.TimeoutNowResponse(term=10),
        "raft_member": members[0],
        "raft_join_request": raft.JoinRequest(node_id="n3", address="10.0.0.3:7000"),
        "raft_join_response": raft.JoinResponse(
            accepted=True, leader_id="n1", leader_address="10.0.0.1:7000", members=members),
        "raft_leave_request": raft.LeaveRequest(node_id="n3"),
        "raft_leave_response": raft.LeaveResponse(
            accepted=False, leader_id="n1", leader_address="10.0.0.1:7000"),
        "raft_status_request": raft.StatusRequest(linearizable=True),
        "raft_status_response": raft.StatusResponse(
            node_id="n1", term=11, leader_id="n1", commit_index=99, applied_index=98,
            members=members, role="leader"),
        # raft.v1 fields and messages added with the driver
        "raft_request_vote_response_ignored": raft.RequestVoteResponse(term=5, ignored=True),
        "raft_append_entries_request_read_round": raft.AppendEntriesRequest(
            term=6, leader_id="n1", prev_log_index=10, prev_log_term=5, leader_commit=10,
            read_round=2**50 + 3),
        "raft_append_entries_response_rejected": raft.AppendEntriesResponse(
            term=6, success=False, conflict_index=4, conflict_term=2, rejected_index=10,
            read_round=7, ignored=True),
        "raft_install_snapshot_request_config": raft.InstallSnapshotRequest(
            term=9, leader_id="n1", last_included_index=1000, last_included_term=8,
            data=pattern(16), config=raft.ClusterConfig(members=members, removed=["n0", "n9"])),
        "raft_install_snapshot_response_match": raft.InstallSnapshotResponse(
            term=9, match_index=1000, ignored=True),
        "raft_read_index_request": raft.ReadIndexRequest(term=12, from_id="n2", context=b"n2\x01\x00"),
        "raft_read_index_response": raft.ReadIndexResponse(
            term=12, context=b"n2\x01\x00", index=2**33, ignored=True),
        "raft_cluster_config": raft.ClusterConfig(members=members, removed=["n0"]),
        "raft_propose_request": raft.ProposeRequest(data=pattern(100)),
        "raft_propose_response": raft.ProposeResponse(
            committed=True, index=77, term=4, leader_id="n1", leader_address="10.0.0.1:7000"),
        "raft_read_entries_request": raft.ReadEntriesRequest(from_index=2**40 + 3, max_entries=64, max_bytes=2**32 - 1),
        "raft_read_entries_response": raft.ReadEntriesResponse(
            entries=[raft.Entry(term=6, index=11, data=b"set x=1"), raft.Entry(term=6, index=12, type=raft.ENTRY_NOOP)],
            next_index=13, commit_index=40, first_index=9),
        "raft_status_response_full": raft.StatusResponse(
            node_id="n2", term=11, leader_id="n1", commit_index=99, applied_index=98,
            members=members, role="follower", last_index=120, leader_address="10.0.0.1:7000",
            snapshot_index=64),

        # gossip.v1
        "gossip_model_values": gossip.ModelValues(
            run_id="run-7", round=12, sender_id="n2", encoding=gossip.FLOAT32_LE,
            values=bytes([0x00, 0x00, 0x00, 0x3F, 0x00, 0x00, 0xA0, 0xBF, 0xFF, 0xFF, 0x7F, 0x7F, 0x01, 0x00, 0x00, 0x00])),
        "gossip_model_values_half": gossip.ModelValues(
            run_id="run-7", round=2**64 - 1, sender_id="nœud-3", encoding=gossip.FLOAT16_LE_SCALED,
            values=bytes([0x00, 0x3C, 0x00, 0xBC, 0xFF, 0x7B]),
            scales=[0.5, 3.4028234663852886e38, 1e-45, -0.0], block_lengths=[1, 2, 0, 2**32 - 1]),
        "gossip_fetch_model_request": gossip.FetchModelRequest(run_id="run-7", requester_id="n5", chunk_values=262144),
        "gossip_model_chunk": gossip.ModelChunk(
            run_id="run-7", round=40, architecture="cnn", total_values=1663370, offset=1572864, values=pattern(1000),
            crc32c=2**32 - 1),
        "gossip_probe_request": gossip.ProbeRequest(sender_id="n2", payload=pattern(1000), reply_bytes=65536),
        "gossip_probe_response": gossip.ProbeResponse(payload=pattern(300)),
        # Keys sorted the same bytewise and by upb's deterministic order.
        "gossip_bandwidth_report": gossip.BandwidthReport(
            reporter_id="n1", mbps_to_peer={"n2": 940.5, "n3": 0.125, "nœud-4": 1e-3}),
        "gossip_training_command_configure": gossip.TrainingCommand(configure=gossip.TrainingConfig(
            run_id="run-7", model="mlp", dataset="fashion-mnist", partition="dirichlet:0.5", slots=8, seed=2**64 - 1,
            algorithm="saps", keep_fraction=0.01, learning_rate=0.05, learning_rate_decay=0.992, momentum=0.9,
            weight_decay=1e-4, batch_size=50, rounds_per_epoch=150, rounds=1200, bandwidth_threshold=3,
            round_threshold=3)),
        "gossip_training_command_admit": gossip.TrainingCommand(
            admit=gossip.Admission(node_id="n5", from_round=1200, slot=4)),
        "gossip_training_command_retire": gossip.TrainingCommand(
            retire=gossip.Retirement(node_id="n2", from_round=77, reason="missed 5 rounds")),
        "gossip_training_command_bandwidth": gossip.TrainingCommand(
            bandwidth=gossip.BandwidthMatrix(workers=["n1", "n2"], mbps=[0, 12.5, 12.5, 0], from_round=300)),
        "gossip_training_command_progress": gossip.TrainingCommand(
            progress=gossip.ProgressReport(node_id="n3", round=150, test_accuracy=0.8125)),
        "gossip_training_command_empty": gossip.TrainingCommand(),
        "gossip_admission": gossip.Admission(node_id="nœud-9", from_round=2**64 - 1, slot=2**32 - 1),
        "gossip_retirement": gossip.Retirement(node_id="n2", from_round=1, reason=""),
        "gossip_bandwidth_matrix": gossip.BandwidthMatrix(
            workers=["a", "b", "c"], mbps=[0, 1, 2, 1, 0, 0.5, 2, 0.5, 0], from_round=0),
        "gossip_progress_report": gossip.ProgressReport(node_id="n1", round=9, test_accuracy=1),
        "gossip_status_request": gossip.StatusRequest(),
        "gossip_admission_external": gossip.Admission(node_id="py1", from_round=64, slot=3, address="10.0.0.7:7300"),
        "gossip_follow_training_request": gossip.FollowTrainingRequest(follower_id="py1"),
        "gossip_committed_training": gossip.CommittedTraining(
            index=41, command=gossip.TrainingCommand(horizon=gossip.RoundHorizon(until_round=96))),
        "gossip_training_status": gossip.TrainingStatus(
            node_id="n1", run_id="run-7", round=1234, epoch=8.25, training=True, partner_id="n4", test_accuracy=0.8613,
            evaluated_round=1200, megabytes_sent=9.57),
    }
    m["gossip_training_config"] = m["gossip_training_command_configure"].configure
    out = {name: msg.SerializeToString(deterministic=True) for name, msg in m.items()}

    # upb always writes a map entry's key and value (protobuf-c omits zero
    # ones) and orders a key after any longer key it prefixes: decode-only.
    out["gossip_bandwidth_report_default_entries"] = gossip.BandwidthReport(
        mbps_to_peer={"": 0.0, "a": 2.0, "ab": 0.0}).SerializeToString(deterministic=True)
    out["compat_node_info_default_metadata_entries"] = compat.NodeInfo(
        metadata={"": "x", "a": "", "ab": "y"}).SerializeToString(deterministic=True)
    # Fields this side does not know: decoders must skip them.
    out["grpc_health_check_request_unknown_fields"] = (
        health.HealthCheckRequest(service="svc").SerializeToString() + unknown_fields())
    # One unknown varint field (99): what `unknownFieldNumbers` must report.
    out["gateway_register_request_unknown_field"] = (
        register_request.SerializeToString(deterministic=True) + varint(99 << 3 | 0) + varint(1))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=HERE, help="output directory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as generated:
        compile_protos(pathlib.Path(generated))
        encoded = samples()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in sorted(encoded.items()):
        (args.out / f"{name}.bin").write_bytes(data)
    print(f"wrote {len(encoded)} golden files to {args.out}")


if __name__ == "__main__":
    main()
