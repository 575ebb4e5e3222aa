/// Raft consensus and cluster-membership messages (raft/v1/raft.proto).
public enum RaftV1 {}

extension RaftV1 {
    /// `raft.v1.EntryType`: open, so unknown values round-trip.
    public struct EntryType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        public static let entryNormal = Self(rawValue: 0)
        public static let entryConfigChange = Self(rawValue: 1)
        public static let entryNoop = Self(rawValue: 2)

        public var description: String {
            switch self {
            case .entryNormal: "ENTRY_NORMAL"
            case .entryConfigChange: "ENTRY_CONFIG_CHANGE"
            case .entryNoop: "ENTRY_NOOP"
            default: "EntryType(\(rawValue))"
            }
        }
    }

    /// `raft.v1.Entry`
    public struct Entry: WireMessage {
        public var term: UInt64
        public var index: UInt64
        public var type: EntryType
        public var data: [UInt8]

        public init(term: UInt64 = 0, index: UInt64 = 0, type: EntryType = .entryNormal, data: [UInt8] = []) {
            self.term = term
            self.index = index
            self.type = type
            self.data = data
        }
    }

    /// `raft.v1.RequestVoteRequest`
    public struct RequestVoteRequest: WireMessage {
        public var term: UInt64
        public var candidateId: String
        public var lastLogIndex: UInt64
        public var lastLogTerm: UInt64
        public var preVote: Bool
        /// Set when a leader handed over leadership (TimeoutNow): bypasses leases.
        public var leadershipTransfer: Bool

        public init(
            term: UInt64 = 0,
            candidateId: String = "",
            lastLogIndex: UInt64 = 0,
            lastLogTerm: UInt64 = 0,
            preVote: Bool = false,
            leadershipTransfer: Bool = false
        ) {
            self.term = term
            self.candidateId = candidateId
            self.lastLogIndex = lastLogIndex
            self.lastLogTerm = lastLogTerm
            self.preVote = preVote
            self.leadershipTransfer = leadershipTransfer
        }
    }

    /// `raft.v1.RequestVoteResponse`
    public struct RequestVoteResponse: WireMessage {
        public var term: UInt64
        public var voteGranted: Bool
        public var preVote: Bool
        /// The receiver had no answer (stale or ignored request): step nothing.
        public var ignored: Bool

        public init(term: UInt64 = 0, voteGranted: Bool = false, preVote: Bool = false, ignored: Bool = false) {
            self.term = term
            self.voteGranted = voteGranted
            self.preVote = preVote
            self.ignored = ignored
        }
    }

    /// `raft.v1.AppendEntriesRequest`
    public struct AppendEntriesRequest: WireMessage {
        public var term: UInt64
        public var leaderId: String
        public var prevLogIndex: UInt64
        public var prevLogTerm: UInt64
        public var entries: [Entry]
        public var leaderCommit: UInt64
        /// ReadIndex confirmation round, echoed by the response.
        public var readRound: UInt64

        public init(
            term: UInt64 = 0,
            leaderId: String = "",
            prevLogIndex: UInt64 = 0,
            prevLogTerm: UInt64 = 0,
            entries: [Entry] = [],
            leaderCommit: UInt64 = 0,
            readRound: UInt64 = 0
        ) {
            self.readRound = readRound
            self.term = term
            self.leaderId = leaderId
            self.prevLogIndex = prevLogIndex
            self.prevLogTerm = prevLogTerm
            self.entries = entries
            self.leaderCommit = leaderCommit
        }
    }

    /// `raft.v1.AppendEntriesResponse`
    public struct AppendEntriesResponse: WireMessage {
        public var term: UInt64
        public var success: Bool
        public var matchIndex: UInt64
        /// Fast backup: first index of the conflicting term and that term.
        public var conflictIndex: UInt64
        public var conflictTerm: UInt64
        /// On failure: the prev_log_index that was rejected.
        public var rejectedIndex: UInt64
        public var readRound: UInt64
        public var ignored: Bool

        public init(
            term: UInt64 = 0,
            success: Bool = false,
            matchIndex: UInt64 = 0,
            conflictIndex: UInt64 = 0,
            conflictTerm: UInt64 = 0,
            rejectedIndex: UInt64 = 0,
            readRound: UInt64 = 0,
            ignored: Bool = false
        ) {
            self.rejectedIndex = rejectedIndex
            self.readRound = readRound
            self.ignored = ignored
            self.term = term
            self.success = success
            self.matchIndex = matchIndex
            self.conflictIndex = conflictIndex
            self.conflictTerm = conflictTerm
        }
    }

    /// `raft.v1.InstallSnapshotRequest`
    public struct InstallSnapshotRequest: WireMessage {
        public var term: UInt64
        public var leaderId: String
        public var lastIncludedIndex: UInt64
        public var lastIncludedTerm: UInt64
        public var offset: UInt64
        public var data: [UInt8]
        public var done: Bool
        /// The membership the snapshot includes (first chunk only).
        public var config: ClusterConfig?

        public init(
            term: UInt64 = 0,
            leaderId: String = "",
            lastIncludedIndex: UInt64 = 0,
            lastIncludedTerm: UInt64 = 0,
            offset: UInt64 = 0,
            data: [UInt8] = [],
            done: Bool = false,
            config: ClusterConfig? = nil
        ) {
            self.config = config
            self.term = term
            self.leaderId = leaderId
            self.lastIncludedIndex = lastIncludedIndex
            self.lastIncludedTerm = lastIncludedTerm
            self.offset = offset
            self.data = data
            self.done = done
        }
    }

    /// `raft.v1.InstallSnapshotResponse`
    public struct InstallSnapshotResponse: WireMessage {
        public var term: UInt64
        /// The follower's log matches the leader's up to here.
        public var matchIndex: UInt64
        public var ignored: Bool

        public init(term: UInt64 = 0, matchIndex: UInt64 = 0, ignored: Bool = false) {
            self.term = term
            self.matchIndex = matchIndex
            self.ignored = ignored
        }
    }

    /// `raft.v1.ReadIndexRequest`: a follower asks the leader to confirm a linearizable read.
    public struct ReadIndexRequest: WireMessage {
        public var term: UInt64
        public var fromId: String
        public var context: [UInt8]

        public init(term: UInt64 = 0, fromId: String = "", context: [UInt8] = []) {
            self.term = term
            self.fromId = fromId
            self.context = context
        }
    }

    /// `raft.v1.ReadIndexResponse`
    public struct ReadIndexResponse: WireMessage {
        public var term: UInt64
        public var context: [UInt8]
        /// Serve the read once applied >= index.
        public var index: UInt64
        public var ignored: Bool

        public init(term: UInt64 = 0, context: [UInt8] = [], index: UInt64 = 0, ignored: Bool = false) {
            self.term = term
            self.context = context
            self.index = index
            self.ignored = ignored
        }
    }

    /// `raft.v1.ClusterConfig`
    public struct ClusterConfig: WireMessage {
        public var members: [Member]
        /// Removed IDs never rejoin.
        public var removed: [String]

        public init(members: [Member] = [], removed: [String] = []) {
            self.members = members
            self.removed = removed
        }
    }

    /// `raft.v1.TimeoutNowRequest`
    public struct TimeoutNowRequest: WireMessage {
        public var term: UInt64
        public var leaderId: String

        public init(term: UInt64 = 0, leaderId: String = "") {
            self.term = term
            self.leaderId = leaderId
        }
    }

    /// `raft.v1.TimeoutNowResponse`
    public struct TimeoutNowResponse: WireMessage {
        public var term: UInt64

        public init(term: UInt64 = 0) {
            self.term = term
        }
    }

    /// `raft.v1.Member`
    public struct Member: WireMessage {
        public var nodeId: String
        public var address: String
        public var voter: Bool

        public init(nodeId: String = "", address: String = "", voter: Bool = false) {
            self.nodeId = nodeId
            self.address = address
            self.voter = voter
        }
    }

    /// `raft.v1.JoinRequest`
    public struct JoinRequest: WireMessage {
        public var nodeId: String
        public var address: String

        public init(nodeId: String = "", address: String = "") {
            self.nodeId = nodeId
            self.address = address
        }
    }

    /// `raft.v1.JoinResponse`
    public struct JoinResponse: WireMessage {
        public var accepted: Bool
        /// Set by followers: where the leader is.
        public var leaderId: String
        public var leaderAddress: String
        public var members: [Member]

        public init(
            accepted: Bool = false,
            leaderId: String = "",
            leaderAddress: String = "",
            members: [Member] = []
        ) {
            self.accepted = accepted
            self.leaderId = leaderId
            self.leaderAddress = leaderAddress
            self.members = members
        }
    }

    /// `raft.v1.LeaveRequest`
    public struct LeaveRequest: WireMessage {
        public var nodeId: String

        public init(nodeId: String = "") {
            self.nodeId = nodeId
        }
    }

    /// `raft.v1.LeaveResponse`
    public struct LeaveResponse: WireMessage {
        public var accepted: Bool
        public var leaderId: String
        public var leaderAddress: String

        public init(accepted: Bool = false, leaderId: String = "", leaderAddress: String = "") {
            self.accepted = accepted
            self.leaderId = leaderId
            self.leaderAddress = leaderAddress
        }
    }

    /// `raft.v1.ProposeRequest`: application data through the leader.
    public struct ProposeRequest: WireMessage {
        public var data: [UInt8]

        public init(data: [UInt8] = []) { self.data = data }
    }

    /// `raft.v1.ReadEntriesRequest`: a page of committed entries.
    public struct ReadEntriesRequest: WireMessage {
        public var fromIndex: UInt64
        public var maxEntries: UInt32
        public var maxBytes: UInt32

        public init(fromIndex: UInt64 = 0, maxEntries: UInt32 = 0, maxBytes: UInt32 = 0) {
            self.fromIndex = fromIndex
            self.maxEntries = maxEntries
            self.maxBytes = maxBytes
        }
    }

    /// `raft.v1.ReadEntriesResponse`
    public struct ReadEntriesResponse: WireMessage {
        public var entries: [Entry]
        public var nextIndex: UInt64
        public var commitIndex: UInt64
        public var firstIndex: UInt64

        public init(entries: [Entry] = [], nextIndex: UInt64 = 0, commitIndex: UInt64 = 0, firstIndex: UInt64 = 0) {
            self.entries = entries
            self.nextIndex = nextIndex
            self.commitIndex = commitIndex
            self.firstIndex = firstIndex
        }
    }

    /// `raft.v1.ProposeResponse`
    public struct ProposeResponse: WireMessage {
        /// True once the entry is committed and applied on the answering leader.
        public var committed: Bool
        public var index: UInt64
        public var term: UInt64
        /// Set when this node is not the leader: where the leader is.
        public var leaderId: String
        public var leaderAddress: String

        public init(committed: Bool = false, index: UInt64 = 0, term: UInt64 = 0, leaderId: String = "", leaderAddress: String = "") {
            self.committed = committed
            self.index = index
            self.term = term
            self.leaderId = leaderId
            self.leaderAddress = leaderAddress
        }
    }

    /// `raft.v1.StatusRequest`
    public struct StatusRequest: WireMessage {
        public var linearizable: Bool

        public init(linearizable: Bool = false) {
            self.linearizable = linearizable
        }
    }

    /// `raft.v1.StatusResponse`
    public struct StatusResponse: WireMessage {
        public var nodeId: String
        public var term: UInt64
        public var leaderId: String
        public var commitIndex: UInt64
        public var appliedIndex: UInt64
        public var members: [Member]
        public var role: String
        public var lastIndex: UInt64
        public var leaderAddress: String
        public var snapshotIndex: UInt64

        public init(
            nodeId: String = "",
            term: UInt64 = 0,
            leaderId: String = "",
            commitIndex: UInt64 = 0,
            appliedIndex: UInt64 = 0,
            members: [Member] = [],
            role: String = "",
            lastIndex: UInt64 = 0,
            leaderAddress: String = "",
            snapshotIndex: UInt64 = 0
        ) {
            self.lastIndex = lastIndex
            self.leaderAddress = leaderAddress
            self.snapshotIndex = snapshotIndex
            self.nodeId = nodeId
            self.term = term
            self.leaderId = leaderId
            self.commitIndex = commitIndex
            self.appliedIndex = appliedIndex
            self.members = members
            self.role = role
        }
    }
}
