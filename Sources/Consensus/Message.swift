/// One message between two cores. The driver delivers it to `to`'s core with
/// `step(_:)`; every message is one-way (responses are messages of their own),
/// may be lost, duplicated or reordered, and carries the sender's term.
public struct Message: Equatable, Sendable {
    public var from: NodeID
    public var to: NodeID
    public var term: UInt64
    public var body: Body

    public init(from: NodeID, to: NodeID, term: UInt64, body: Body) {
        self.from = from
        self.to = to
        self.term = term
        self.body = body
    }

    public enum Body: Equatable, Sendable {
        case requestVote(RequestVote)
        case requestVoteResponse(RequestVoteResponse)
        case appendEntries(AppendEntries)
        case appendEntriesResponse(AppendEntriesResponse)
        case installSnapshot(InstallSnapshot)
        case installSnapshotResponse(InstallSnapshotResponse)
        /// From the leader to the transfer target: campaign now, skipping pre-vote.
        case timeoutNow
        /// A follower forwards a linearizable read to the leader.
        case readIndex(ReadIndexRequest)
        /// The leader's answer: serve the read once applied ≥ `index`.
        case readIndexResponse(ReadIndexResponse)
    }

    /// The message type without its payload (for logging, metrics and tests).
    public var kind: Kind {
        switch body {
        case .requestVote(let r): r.preVote ? .preVote : .requestVote
        case .requestVoteResponse(let r): r.preVote ? .preVoteResponse : .requestVoteResponse
        case .appendEntries: .appendEntries
        case .appendEntriesResponse: .appendEntriesResponse
        case .installSnapshot: .installSnapshot
        case .installSnapshotResponse: .installSnapshotResponse
        case .timeoutNow: .timeoutNow
        case .readIndex: .readIndex
        case .readIndexResponse: .readIndexResponse
        }
    }

    public enum Kind: String, Sendable, CaseIterable {
        case preVote, preVoteResponse, requestVote, requestVoteResponse, appendEntries, appendEntriesResponse
        case installSnapshot, installSnapshotResponse, timeoutNow, readIndex, readIndexResponse
    }
}

public struct RequestVote: Equatable, Sendable {
    public var lastLogIndex: UInt64
    public var lastLogTerm: UInt64
    /// A pre-vote: "would you vote for me at `Message.term`?" Nobody changes term or vote.
    public var preVote: Bool
    /// Sent after TimeoutNow: voters grant it even while they hear from a leader.
    public var leadershipTransfer: Bool

    public init(lastLogIndex: UInt64, lastLogTerm: UInt64, preVote: Bool = false, leadershipTransfer: Bool = false) {
        self.lastLogIndex = lastLogIndex
        self.lastLogTerm = lastLogTerm
        self.preVote = preVote
        self.leadershipTransfer = leadershipTransfer
    }
}

public struct RequestVoteResponse: Equatable, Sendable {
    public var granted: Bool
    /// Echoes the request's flag.
    public var preVote: Bool

    public init(granted: Bool, preVote: Bool) {
        self.granted = granted
        self.preVote = preVote
    }
}

/// Replication, and the heartbeat (no entries). Any AppendEntries carries the
/// leader's commit and its current read round, which the response echoes.
public struct AppendEntries: Equatable, Sendable {
    public var prevLogIndex: UInt64
    public var prevLogTerm: UInt64
    public var entries: [Entry]
    public var leaderCommit: UInt64
    /// ReadIndex confirmation round (0: none yet). A quorum echoing round r
    /// confirms the leader was still leader after every read registered up to r.
    public var readRound: UInt64

    public init(prevLogIndex: UInt64, prevLogTerm: UInt64, entries: [Entry] = [], leaderCommit: UInt64, readRound: UInt64 = 0) {
        self.prevLogIndex = prevLogIndex
        self.prevLogTerm = prevLogTerm
        self.entries = entries
        self.leaderCommit = leaderCommit
        self.readRound = readRound
    }
}

public struct AppendEntriesResponse: Equatable, Sendable {
    public var success: Bool
    /// On success: the follower's log matches the leader's up to here (durably).
    public var matchIndex: UInt64
    /// On failure: the `prevLogIndex` that was rejected (lets the leader drop stale rejections).
    public var rejectedIndex: UInt64
    /// Fast backup, on failure: the term of the follower's entry at `prevLogIndex`
    /// (0 if its log is shorter) and the first index it holds of that term
    /// (or its last index + 1 when the log is shorter).
    public var conflictIndex: UInt64
    public var conflictTerm: UInt64
    /// Echo of the request's `readRound`.
    public var readRound: UInt64

    public init(success: Bool, matchIndex: UInt64 = 0, rejectedIndex: UInt64 = 0, conflictIndex: UInt64 = 0,
                conflictTerm: UInt64 = 0, readRound: UInt64 = 0) {
        self.success = success
        self.matchIndex = matchIndex
        self.rejectedIndex = rejectedIndex
        self.conflictIndex = conflictIndex
        self.conflictTerm = conflictTerm
        self.readRound = readRound
    }
}

/// The whole snapshot in one message; the transport may chunk `snapshot.data`.
public struct InstallSnapshot: Equatable, Sendable {
    public var snapshot: Snapshot

    public init(snapshot: Snapshot) { self.snapshot = snapshot }
}

public struct InstallSnapshotResponse: Equatable, Sendable {
    /// The follower's log matches the leader's up to here afterwards.
    public var matchIndex: UInt64

    public init(matchIndex: UInt64) { self.matchIndex = matchIndex }
}

public struct ReadIndexRequest: Equatable, Sendable {
    public var context: [UInt8]

    public init(context: [UInt8]) { self.context = context }
}

public struct ReadIndexResponse: Equatable, Sendable {
    public var context: [UInt8]
    public var index: UInt64

    public init(context: [UInt8], index: UInt64) {
        self.context = context
        self.index = index
    }
}
