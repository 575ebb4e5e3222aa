internal import CProtos

// Field-by-field mapping between the RaftV1 value types and protoc-c's structs.

extension RaftV1.EntryType: OpenEnum {}

extension RaftV1.Entry: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Raft__V1__Entry>) { raft__v1__entry__init(c) }

    init(c: Raft__V1__Entry) throws {
        self.init(term: c.term, index: c.index, type: RaftV1.EntryType(c: c.type), data: decodeBytes(c.data))
    }

    func fill(_ c: UnsafeMutablePointer<Raft__V1__Entry>, in arena: CArena) {
        c.pointee.term = term
        c.pointee.index = index
        c.pointee.type = type.c()
        arena.setBytes(data, c.field(\.data))
    }
}

extension RaftV1.RequestVoteRequest: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Raft__V1__RequestVoteRequest>) {
        raft__v1__request_vote_request__init(c)
    }

    init(c: Raft__V1__RequestVoteRequest) throws {
        self.init(
            term: c.term,
            candidateId: try decodeString(c.candidate_id),
            lastLogIndex: c.last_log_index,
            lastLogTerm: c.last_log_term,
            preVote: c.pre_vote != 0,
            leadershipTransfer: c.leadership_transfer != 0
        )
    }

    func fill(_ c: UnsafeMutablePointer<Raft__V1__RequestVoteRequest>, in arena: CArena) {
        c.pointee.term = term
        c.pointee.candidate_id = arena.string(candidateId)
        c.pointee.last_log_index = lastLogIndex
        c.pointee.last_log_term = lastLogTerm
        c.pointee.pre_vote = preVote ? 1 : 0
        c.pointee.leadership_transfer = leadershipTransfer ? 1 : 0
    }
}

extension RaftV1.RequestVoteResponse: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Raft__V1__RequestVoteResponse>) {
        raft__v1__request_vote_response__init(c)
    }

    init(c: Raft__V1__RequestVoteResponse) throws {
        self.init(term: c.term, voteGranted: c.vote_granted != 0, preVote: c.pre_vote != 0, ignored: c.ignored != 0)
    }

    func fill(_ c: UnsafeMutablePointer<Raft__V1__RequestVoteResponse>, in arena: CArena) {
        c.pointee.term = term
        c.pointee.vote_granted = voteGranted ? 1 : 0
        c.pointee.pre_vote = preVote ? 1 : 0
        c.pointee.ignored = ignored ? 1 : 0
    }
}

extension RaftV1.AppendEntriesRequest: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Raft__V1__AppendEntriesRequest>) {
        raft__v1__append_entries_request__init(c)
    }

    init(c: Raft__V1__AppendEntriesRequest) throws {
        self.init(
            term: c.term,
            leaderId: try decodeString(c.leader_id),
            prevLogIndex: c.prev_log_index,
            prevLogTerm: c.prev_log_term,
            entries: try RaftV1.Entry.decodeAll(c.entries, count: c.n_entries),
            leaderCommit: c.leader_commit,
            readRound: c.read_round
        )
    }

    func fill(_ c: UnsafeMutablePointer<Raft__V1__AppendEntriesRequest>, in arena: CArena) {
        c.pointee.term = term
        c.pointee.leader_id = arena.string(leaderId)
        c.pointee.prev_log_index = prevLogIndex
        c.pointee.prev_log_term = prevLogTerm
        (c.pointee.n_entries, c.pointee.entries) = arena.messages(entries)
        c.pointee.leader_commit = leaderCommit
        c.pointee.read_round = readRound
    }
}

extension RaftV1.AppendEntriesResponse: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Raft__V1__AppendEntriesResponse>) {
        raft__v1__append_entries_response__init(c)
    }

    init(c: Raft__V1__AppendEntriesResponse) throws {
        self.init(
            term: c.term,
            success: c.success != 0,
            matchIndex: c.match_index,
            conflictIndex: c.conflict_index,
            conflictTerm: c.conflict_term,
            rejectedIndex: c.rejected_index,
            readRound: c.read_round,
            ignored: c.ignored != 0
        )
    }

    func fill(_ c: UnsafeMutablePointer<Raft__V1__AppendEntriesResponse>, in arena: CArena) {
        c.pointee.term = term
        c.pointee.success = success ? 1 : 0
        c.pointee.match_index = matchIndex
        c.pointee.conflict_index = conflictIndex
        c.pointee.conflict_term = conflictTerm
        c.pointee.rejected_index = rejectedIndex
        c.pointee.read_round = readRound
        c.pointee.ignored = ignored ? 1 : 0
    }
}

extension RaftV1.InstallSnapshotRequest: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Raft__V1__InstallSnapshotRequest>) {
        raft__v1__install_snapshot_request__init(c)
    }

    init(c: Raft__V1__InstallSnapshotRequest) throws {
        self.init(
            term: c.term,
            leaderId: try decodeString(c.leader_id),
            lastIncludedIndex: c.last_included_index,
            lastIncludedTerm: c.last_included_term,
            offset: c.offset,
            data: decodeBytes(c.data),
            done: c.done != 0,
            config: try RaftV1.ClusterConfig.decode(c.config)
        )
    }

    func fill(_ c: UnsafeMutablePointer<Raft__V1__InstallSnapshotRequest>, in arena: CArena) {
        c.pointee.term = term
        c.pointee.leader_id = arena.string(leaderId)
        c.pointee.last_included_index = lastIncludedIndex
        c.pointee.last_included_term = lastIncludedTerm
        c.pointee.offset = offset
        arena.setBytes(data, c.field(\.data))
        c.pointee.done = done ? 1 : 0
        c.pointee.config = arena.message(config)
    }
}

extension RaftV1.InstallSnapshotResponse: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Raft__V1__InstallSnapshotResponse>) {
        raft__v1__install_snapshot_response__init(c)
    }

    init(c: Raft__V1__InstallSnapshotResponse) throws {
        self.init(term: c.term, matchIndex: c.match_index, ignored: c.ignored != 0)
    }

    func fill(_ c: UnsafeMutablePointer<Raft__V1__InstallSnapshotResponse>, in arena: CArena) {
        c.pointee.term = term
        c.pointee.match_index = matchIndex
        c.pointee.ignored = ignored ? 1 : 0
    }
}

extension RaftV1.ReadIndexRequest: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Raft__V1__ReadIndexRequest>) { raft__v1__read_index_request__init(c) }

    init(c: Raft__V1__ReadIndexRequest) throws {
        self.init(term: c.term, fromId: try decodeString(c.from_id), context: decodeBytes(c.context))
    }

    func fill(_ c: UnsafeMutablePointer<Raft__V1__ReadIndexRequest>, in arena: CArena) {
        c.pointee.term = term
        c.pointee.from_id = arena.string(fromId)
        arena.setBytes(context, c.field(\.context))
    }
}

extension RaftV1.ReadIndexResponse: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Raft__V1__ReadIndexResponse>) { raft__v1__read_index_response__init(c) }

    init(c: Raft__V1__ReadIndexResponse) throws {
        self.init(term: c.term, context: decodeBytes(c.context), index: c.index, ignored: c.ignored != 0)
    }

    func fill(_ c: UnsafeMutablePointer<Raft__V1__ReadIndexResponse>, in arena: CArena) {
        c.pointee.term = term
        arena.setBytes(context, c.field(\.context))
        c.pointee.index = index
        c.pointee.ignored = ignored ? 1 : 0
    }
}

extension RaftV1.ClusterConfig: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Raft__V1__ClusterConfig>) { raft__v1__cluster_config__init(c) }

    init(c: Raft__V1__ClusterConfig) throws {
        self.init(members: try RaftV1.Member.decodeAll(c.members, count: c.n_members),
                  removed: try decodeStrings(c.removed, count: c.n_removed))
    }

    func fill(_ c: UnsafeMutablePointer<Raft__V1__ClusterConfig>, in arena: CArena) {
        (c.pointee.n_members, c.pointee.members) = arena.messages(members)
        (c.pointee.n_removed, c.pointee.removed) = arena.strings(removed)
    }
}

extension RaftV1.ProposeRequest: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Raft__V1__ProposeRequest>) { raft__v1__propose_request__init(c) }

    init(c: Raft__V1__ProposeRequest) throws { self.init(data: decodeBytes(c.data)) }

    func fill(_ c: UnsafeMutablePointer<Raft__V1__ProposeRequest>, in arena: CArena) {
        arena.setBytes(data, c.field(\.data))
    }
}

extension RaftV1.ReadEntriesRequest: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Raft__V1__ReadEntriesRequest>) { raft__v1__read_entries_request__init(c) }

    init(c: Raft__V1__ReadEntriesRequest) throws {
        self.init(fromIndex: c.from_index, maxEntries: c.max_entries, maxBytes: c.max_bytes)
    }

    func fill(_ c: UnsafeMutablePointer<Raft__V1__ReadEntriesRequest>, in arena: CArena) {
        c.pointee.from_index = fromIndex
        c.pointee.max_entries = maxEntries
        c.pointee.max_bytes = maxBytes
    }
}

extension RaftV1.ReadEntriesResponse: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Raft__V1__ReadEntriesResponse>) { raft__v1__read_entries_response__init(c) }

    init(c: Raft__V1__ReadEntriesResponse) throws {
        self.init(entries: try RaftV1.Entry.decodeAll(c.entries, count: c.n_entries), nextIndex: c.next_index,
                  commitIndex: c.commit_index, firstIndex: c.first_index)
    }

    func fill(_ c: UnsafeMutablePointer<Raft__V1__ReadEntriesResponse>, in arena: CArena) {
        (c.pointee.n_entries, c.pointee.entries) = arena.messages(entries)
        c.pointee.next_index = nextIndex
        c.pointee.commit_index = commitIndex
        c.pointee.first_index = firstIndex
    }
}

extension RaftV1.ProposeResponse: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Raft__V1__ProposeResponse>) { raft__v1__propose_response__init(c) }

    init(c: Raft__V1__ProposeResponse) throws {
        self.init(committed: c.committed != 0, index: c.index, term: c.term,
                  leaderId: try decodeString(c.leader_id), leaderAddress: try decodeString(c.leader_address))
    }

    func fill(_ c: UnsafeMutablePointer<Raft__V1__ProposeResponse>, in arena: CArena) {
        c.pointee.committed = committed ? 1 : 0
        c.pointee.index = index
        c.pointee.term = term
        c.pointee.leader_id = arena.string(leaderId)
        c.pointee.leader_address = arena.string(leaderAddress)
    }
}

extension RaftV1.TimeoutNowRequest: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Raft__V1__TimeoutNowRequest>) {
        raft__v1__timeout_now_request__init(c)
    }

    init(c: Raft__V1__TimeoutNowRequest) throws {
        self.init(term: c.term, leaderId: try decodeString(c.leader_id))
    }

    func fill(_ c: UnsafeMutablePointer<Raft__V1__TimeoutNowRequest>, in arena: CArena) {
        c.pointee.term = term
        c.pointee.leader_id = arena.string(leaderId)
    }
}

extension RaftV1.TimeoutNowResponse: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Raft__V1__TimeoutNowResponse>) {
        raft__v1__timeout_now_response__init(c)
    }

    init(c: Raft__V1__TimeoutNowResponse) throws {
        self.init(term: c.term)
    }

    func fill(_ c: UnsafeMutablePointer<Raft__V1__TimeoutNowResponse>, in arena: CArena) {
        c.pointee.term = term
    }
}

extension RaftV1.Member: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Raft__V1__Member>) { raft__v1__member__init(c) }

    init(c: Raft__V1__Member) throws {
        self.init(
            nodeId: try decodeString(c.node_id),
            address: try decodeString(c.address),
            voter: c.voter != 0
        )
    }

    func fill(_ c: UnsafeMutablePointer<Raft__V1__Member>, in arena: CArena) {
        c.pointee.node_id = arena.string(nodeId)
        c.pointee.address = arena.string(address)
        c.pointee.voter = voter ? 1 : 0
    }
}

extension RaftV1.JoinRequest: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Raft__V1__JoinRequest>) { raft__v1__join_request__init(c) }

    init(c: Raft__V1__JoinRequest) throws {
        self.init(nodeId: try decodeString(c.node_id), address: try decodeString(c.address))
    }

    func fill(_ c: UnsafeMutablePointer<Raft__V1__JoinRequest>, in arena: CArena) {
        c.pointee.node_id = arena.string(nodeId)
        c.pointee.address = arena.string(address)
    }
}

extension RaftV1.JoinResponse: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Raft__V1__JoinResponse>) { raft__v1__join_response__init(c) }

    init(c: Raft__V1__JoinResponse) throws {
        self.init(
            accepted: c.accepted != 0,
            leaderId: try decodeString(c.leader_id),
            leaderAddress: try decodeString(c.leader_address),
            members: try RaftV1.Member.decodeAll(c.members, count: c.n_members)
        )
    }

    func fill(_ c: UnsafeMutablePointer<Raft__V1__JoinResponse>, in arena: CArena) {
        c.pointee.accepted = accepted ? 1 : 0
        c.pointee.leader_id = arena.string(leaderId)
        c.pointee.leader_address = arena.string(leaderAddress)
        (c.pointee.n_members, c.pointee.members) = arena.messages(members)
    }
}

extension RaftV1.LeaveRequest: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Raft__V1__LeaveRequest>) { raft__v1__leave_request__init(c) }

    init(c: Raft__V1__LeaveRequest) throws {
        self.init(nodeId: try decodeString(c.node_id))
    }

    func fill(_ c: UnsafeMutablePointer<Raft__V1__LeaveRequest>, in arena: CArena) {
        c.pointee.node_id = arena.string(nodeId)
    }
}

extension RaftV1.LeaveResponse: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Raft__V1__LeaveResponse>) {
        raft__v1__leave_response__init(c)
    }

    init(c: Raft__V1__LeaveResponse) throws {
        self.init(
            accepted: c.accepted != 0,
            leaderId: try decodeString(c.leader_id),
            leaderAddress: try decodeString(c.leader_address)
        )
    }

    func fill(_ c: UnsafeMutablePointer<Raft__V1__LeaveResponse>, in arena: CArena) {
        c.pointee.accepted = accepted ? 1 : 0
        c.pointee.leader_id = arena.string(leaderId)
        c.pointee.leader_address = arena.string(leaderAddress)
    }
}

extension RaftV1.StatusRequest: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Raft__V1__StatusRequest>) {
        raft__v1__status_request__init(c)
    }

    init(c: Raft__V1__StatusRequest) throws {
        self.init(linearizable: c.linearizable != 0)
    }

    func fill(_ c: UnsafeMutablePointer<Raft__V1__StatusRequest>, in arena: CArena) {
        c.pointee.linearizable = linearizable ? 1 : 0
    }
}

extension RaftV1.StatusResponse: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Raft__V1__StatusResponse>) {
        raft__v1__status_response__init(c)
    }

    init(c: Raft__V1__StatusResponse) throws {
        self.init(
            nodeId: try decodeString(c.node_id),
            term: c.term,
            leaderId: try decodeString(c.leader_id),
            commitIndex: c.commit_index,
            appliedIndex: c.applied_index,
            members: try RaftV1.Member.decodeAll(c.members, count: c.n_members),
            role: try decodeString(c.role),
            lastIndex: c.last_index,
            leaderAddress: try decodeString(c.leader_address),
            snapshotIndex: c.snapshot_index
        )
    }

    func fill(_ c: UnsafeMutablePointer<Raft__V1__StatusResponse>, in arena: CArena) {
        c.pointee.node_id = arena.string(nodeId)
        c.pointee.term = term
        c.pointee.leader_id = arena.string(leaderId)
        c.pointee.commit_index = commitIndex
        c.pointee.applied_index = appliedIndex
        (c.pointee.n_members, c.pointee.members) = arena.messages(members)
        c.pointee.role = arena.string(role)
        c.pointee.last_index = lastIndex
        c.pointee.leader_address = arena.string(leaderAddress)
        c.pointee.snapshot_index = snapshotIndex
    }
}
