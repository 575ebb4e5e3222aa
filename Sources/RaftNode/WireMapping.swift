import Consensus
import GossipWire

/// Converts between the core's one-way `Message`s and raft.v1's request/response pairs.
/// A request carries its sender's ID; a response's sender is the peer that was called.
enum WireMapping {
    // MARK: core → wire

    static func entry(_ e: Entry) -> RaftV1.Entry {
        RaftV1.Entry(term: e.term, index: e.index, type: RaftV1.EntryType(rawValue: Int32(e.kind.rawValue)), data: e.data)
    }

    static func config(_ c: ClusterConfig) -> RaftV1.ClusterConfig {
        let members = c.members.sorted().map {
            RaftV1.Member(nodeId: $0, address: c.addresses[$0] ?? "", voter: c.voters.contains($0))
        }
        return RaftV1.ClusterConfig(members: members, removed: c.removed.sorted())
    }

    static func requestVote(_ m: Message, _ r: RequestVote) -> RaftV1.RequestVoteRequest {
        RaftV1.RequestVoteRequest(term: m.term, candidateId: m.from, lastLogIndex: r.lastLogIndex, lastLogTerm: r.lastLogTerm,
                                  preVote: r.preVote, leadershipTransfer: r.leadershipTransfer)
    }

    static func appendEntries(_ m: Message, _ r: AppendEntries) -> RaftV1.AppendEntriesRequest {
        RaftV1.AppendEntriesRequest(term: m.term, leaderId: m.from, prevLogIndex: r.prevLogIndex, prevLogTerm: r.prevLogTerm,
                                    entries: r.entries.map(entry), leaderCommit: r.leaderCommit, readRound: r.readRound)
    }

    /// The first chunk carries the metadata; the rest only data.
    static func snapshotChunks(_ m: Message, _ snapshot: Snapshot, chunkSize: Int) -> [RaftV1.InstallSnapshotRequest] {
        let meta = snapshot.metadata
        var chunks: [RaftV1.InstallSnapshotRequest] = []
        var offset = 0
        repeat {
            let end = min(offset + chunkSize, snapshot.data.count)
            chunks.append(RaftV1.InstallSnapshotRequest(
                term: m.term, leaderId: m.from, lastIncludedIndex: meta.lastIncludedIndex, lastIncludedTerm: meta.lastIncludedTerm,
                offset: UInt64(offset), data: Array(snapshot.data[offset..<end]), done: end == snapshot.data.count,
                config: offset == 0 ? config(meta.config) : nil))
            offset = end
        } while offset < snapshot.data.count
        return chunks
    }

    /// The wire form of a response message the core produced (nil: not a response).
    static func voteResponse(_ m: Message?) -> RaftV1.RequestVoteResponse {
        guard let m, case .requestVoteResponse(let r) = m.body else { return RaftV1.RequestVoteResponse(ignored: true) }
        return RaftV1.RequestVoteResponse(term: m.term, voteGranted: r.granted, preVote: r.preVote)
    }

    static func appendResponse(_ m: Message?) -> RaftV1.AppendEntriesResponse {
        guard let m, case .appendEntriesResponse(let r) = m.body else { return RaftV1.AppendEntriesResponse(ignored: true) }
        return RaftV1.AppendEntriesResponse(term: m.term, success: r.success, matchIndex: r.matchIndex,
                                            conflictIndex: r.conflictIndex, conflictTerm: r.conflictTerm,
                                            rejectedIndex: r.rejectedIndex, readRound: r.readRound)
    }

    static func snapshotResponse(_ m: Message?) -> RaftV1.InstallSnapshotResponse {
        guard let m, case .installSnapshotResponse(let r) = m.body else { return RaftV1.InstallSnapshotResponse(ignored: true) }
        return RaftV1.InstallSnapshotResponse(term: m.term, matchIndex: r.matchIndex)
    }

    static func readIndexResponse(_ m: Message?) -> RaftV1.ReadIndexResponse {
        guard let m, case .readIndexResponse(let r) = m.body else { return RaftV1.ReadIndexResponse(ignored: true) }
        return RaftV1.ReadIndexResponse(term: m.term, context: r.context, index: r.index)
    }

    // MARK: wire → core

    static func entry(_ e: RaftV1.Entry) throws(RaftWireError) -> Entry {
        guard (0...255).contains(e.type.rawValue), let kind = Entry.Kind(rawValue: UInt8(e.type.rawValue)) else {
            throw RaftWireError("unknown entry type \(e.type.rawValue) at index \(e.index)")
        }
        return Entry(term: e.term, index: e.index, kind: kind, data: e.data)
    }

    static func config(_ c: RaftV1.ClusterConfig) throws(RaftWireError) -> ClusterConfig {
        var config = ClusterConfig(removed: Set(c.removed))
        for member in c.members {
            guard !member.nodeId.isEmpty else { throw RaftWireError("cluster config member without node_id") }
            if member.voter { config.voters.insert(member.nodeId) } else { config.learners.insert(member.nodeId) }
            config.addresses[member.nodeId] = member.address
        }
        return config
    }

    static func message(_ r: RaftV1.RequestVoteRequest, to: NodeID) throws(RaftWireError) -> Message {
        try nonEmpty(r.candidateId, "candidate_id")
        return Message(from: r.candidateId, to: to, term: r.term, body: .requestVote(RequestVote(
            lastLogIndex: r.lastLogIndex, lastLogTerm: r.lastLogTerm, preVote: r.preVote, leadershipTransfer: r.leadershipTransfer)))
    }

    static func message(_ r: RaftV1.AppendEntriesRequest, to: NodeID) throws(RaftWireError) -> Message {
        try nonEmpty(r.leaderId, "leader_id")
        var entries: [Entry] = []
        entries.reserveCapacity(r.entries.count)
        var expected = r.prevLogIndex &+ 1
        for e in r.entries {
            guard e.index == expected else { throw RaftWireError("entries must follow prev_log_index consecutively (got \(e.index), expected \(expected))") }
            entries.append(try entry(e))
            expected &+= 1
        }
        return Message(from: r.leaderId, to: to, term: r.term, body: .appendEntries(AppendEntries(
            prevLogIndex: r.prevLogIndex, prevLogTerm: r.prevLogTerm, entries: entries, leaderCommit: r.leaderCommit,
            readRound: r.readRound)))
    }

    static func message(_ r: RaftV1.TimeoutNowRequest, to: NodeID) throws(RaftWireError) -> Message {
        try nonEmpty(r.leaderId, "leader_id")
        return Message(from: r.leaderId, to: to, term: r.term, body: .timeoutNow)
    }

    static func message(_ r: RaftV1.ReadIndexRequest, to: NodeID) throws(RaftWireError) -> Message {
        try nonEmpty(r.fromId, "from_id")
        return Message(from: r.fromId, to: to, term: r.term, body: .readIndex(ReadIndexRequest(context: r.context)))
    }

    /// Reassembles a streamed snapshot: chunks must be contiguous, the first carries the config.
    static func snapshotMessage(_ chunks: [RaftV1.InstallSnapshotRequest], to: NodeID) throws(RaftWireError) -> Message {
        guard let first = chunks.first else { throw RaftWireError("InstallSnapshot stream carried no chunk") }
        try nonEmpty(first.leaderId, "leader_id")
        guard let wireConfig = first.config else { throw RaftWireError("first InstallSnapshot chunk lacks config") }
        guard chunks.last?.done == true else { throw RaftWireError("InstallSnapshot stream ended before a chunk with done=true") }
        var data: [UInt8] = []
        for chunk in chunks {
            guard chunk.offset == UInt64(data.count) else {
                throw RaftWireError("InstallSnapshot chunk at offset \(chunk.offset), expected \(data.count)")
            }
            guard chunk.lastIncludedIndex == first.lastIncludedIndex, chunk.term == first.term else {
                throw RaftWireError("InstallSnapshot chunks disagree on term or index")
            }
            data.append(contentsOf: chunk.data)
        }
        let metadata = SnapshotMetadata(lastIncludedIndex: first.lastIncludedIndex, lastIncludedTerm: first.lastIncludedTerm,
                                        config: try config(wireConfig))
        return Message(from: first.leaderId, to: to, term: first.term,
                       body: .installSnapshot(InstallSnapshot(snapshot: Snapshot(metadata: metadata, data: data))))
    }

    /// A response from `peer` as the core's message, or nil when the peer had no answer.
    static func message(_ r: RaftV1.RequestVoteResponse, from peer: NodeID, to: NodeID) -> Message? {
        r.ignored ? nil : Message(from: peer, to: to, term: r.term,
                                  body: .requestVoteResponse(RequestVoteResponse(granted: r.voteGranted, preVote: r.preVote)))
    }

    static func message(_ r: RaftV1.AppendEntriesResponse, from peer: NodeID, to: NodeID) -> Message? {
        r.ignored ? nil : Message(from: peer, to: to, term: r.term, body: .appendEntriesResponse(AppendEntriesResponse(
            success: r.success, matchIndex: r.matchIndex, rejectedIndex: r.rejectedIndex, conflictIndex: r.conflictIndex,
            conflictTerm: r.conflictTerm, readRound: r.readRound)))
    }

    static func message(_ r: RaftV1.InstallSnapshotResponse, from peer: NodeID, to: NodeID) -> Message? {
        r.ignored ? nil : Message(from: peer, to: to, term: r.term,
                                  body: .installSnapshotResponse(InstallSnapshotResponse(matchIndex: r.matchIndex)))
    }

    static func message(_ r: RaftV1.ReadIndexResponse, from peer: NodeID, to: NodeID) -> Message? {
        r.ignored ? nil : Message(from: peer, to: to, term: r.term,
                                  body: .readIndexResponse(ReadIndexResponse(context: r.context, index: r.index)))
    }

    private static func nonEmpty(_ value: String, _ field: String) throws(RaftWireError) {
        guard !value.isEmpty else { throw RaftWireError("\(field) is empty") }
    }
}

/// A raft.v1 message that cannot be a Raft message (answered with INVALID_ARGUMENT).
struct RaftWireError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
