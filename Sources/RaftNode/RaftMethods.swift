import GossipRPC
import GossipWire

/// Method descriptors of `raft.v1.Raft` (between peers) and `raft.v1.Cluster` (membership, status, proposals).
public enum RaftMethods {
    public static let raftService = "raft.v1.Raft"
    public static let clusterService = "raft.v1.Cluster"

    public static let requestVote = MethodDescriptor<RaftV1.RequestVoteRequest, RaftV1.RequestVoteResponse>(
        service: raftService, method: "RequestVote")
    public static let appendEntries = MethodDescriptor<RaftV1.AppendEntriesRequest, RaftV1.AppendEntriesResponse>(
        service: raftService, method: "AppendEntries")
    public static let installSnapshot = MethodDescriptor<RaftV1.InstallSnapshotRequest, RaftV1.InstallSnapshotResponse>(
        service: raftService, method: "InstallSnapshot")
    public static let timeoutNow = MethodDescriptor<RaftV1.TimeoutNowRequest, RaftV1.TimeoutNowResponse>(
        service: raftService, method: "TimeoutNow")
    public static let readIndex = MethodDescriptor<RaftV1.ReadIndexRequest, RaftV1.ReadIndexResponse>(
        service: raftService, method: "ReadIndex")

    public static let join = MethodDescriptor<RaftV1.JoinRequest, RaftV1.JoinResponse>(service: clusterService, method: "Join")
    public static let leave = MethodDescriptor<RaftV1.LeaveRequest, RaftV1.LeaveResponse>(service: clusterService, method: "Leave")
    public static let status = MethodDescriptor<RaftV1.StatusRequest, RaftV1.StatusResponse>(service: clusterService, method: "Status")
    public static let readEntries = MethodDescriptor<RaftV1.ReadEntriesRequest, RaftV1.ReadEntriesResponse>(
        service: clusterService, method: "ReadEntries")
    public static let propose = MethodDescriptor<RaftV1.ProposeRequest, RaftV1.ProposeResponse>(
        service: clusterService, method: "Propose")
}
