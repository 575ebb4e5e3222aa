/// A deterministic Raft node: inputs are `tick`, `step`, `propose`,
/// `proposeConfigChange`, `readIndex`, `transferLeadership`, `compact` and
/// `advance`; every output comes out of `ready()` (see `Ready` for the driver
/// contract). No clocks, threads, I/O or global randomness.
///
/// Built in: pre-vote and check-quorum (both on by default), a no-op entry on
/// election, fast log backup, pipelined replication, snapshots (Figure 13),
/// single-server membership changes that take effect when appended (thesis
/// §4.1; one at a time, and only once the leader has committed an entry of its
/// term), learners promoted automatically once caught up, ReadIndex reads, and
/// leadership transfer.
public struct RaftCore: Sendable {
    public let config: RaftConfig
    public internal(set) var role: Role = .follower
    public internal(set) var term: UInt64 = 0
    /// Who this node believes leads `term` (itself when leader).
    public internal(set) var leader: NodeID?

    var votedFor: NodeID?
    var log: RaftLog
    var rng: SplitMix64

    var electionElapsed = 0
    var heartbeatElapsed = 0
    var randomizedElectionTimeout = 0
    /// Votes received in the current (pre-)campaign.
    var votes: [NodeID: Bool] = [:]

    // Leader only.
    var progress: [NodeID: Progress] = [:]
    /// `progress` keys, sorted: dictionaries iterate in a per-process order, and the core must be reproducible.
    var peers: [NodeID] = []
    var reads = ReadIndexState()
    var transfer: LeadershipTransfer?
    var appendsPending = false
    var heartbeatPending = false

    // Output buffers, drained by `ready()`.
    var outbox: [Message] = []
    var readStates: [ReadState] = []
    var persistedHardState: HardState
    var reportedSoftState: SoftState?
    var readyOutstanding = false

    public var id: NodeID { config.id }

    /// Restores a node from what storage loaded (`PersistentState()` for a node
    /// about to join: it has no config and waits for a leader to contact it).
    /// `appliedIndex` is how far the application's restored state reaches
    /// (default: the snapshot); committed entries after it are handed out again.
    public init(config: RaftConfig, state: PersistentState, appliedIndex: UInt64? = nil) throws(RaftError) {
        try config.validate()
        if let problem = state.boundsViolation {
            throw .invalidPersistentState("\(problem); a forged message poisoned this state")
        }
        self.config = config
        log = try RaftLog(restoring: state, applied: appliedIndex)
        term = state.hardState.term
        votedFor = state.hardState.votedFor
        guard log.lastTerm <= term else {
            throw .invalidPersistentState("log holds term \(log.lastTerm) beyond the stored term \(term)")
        }
        persistedHardState = state.hardState
        rng = SplitMix64(seed: config.randomSeed)
        randomizeElectionTimeout()
    }

    /// Creates a brand-new single-voter cluster on a node that has never been
    /// part of one (the node the gateway told to bootstrap). The cluster starts
    /// from a snapshot at index 1, term 1, whose config has this node as its only
    /// voter and whose data is `initialData` (the application's empty state); the
    /// node then elects itself. The first Ready carries that snapshot: persist it
    /// like a snapshot received from a leader. Joiners receive it the same way.
    /// Throws `alreadyInitialized` if `state` is not empty: a node with state never bootstraps again.
    public static func bootstrap(config: RaftConfig, address: String, state: PersistentState,
                                 initialData: [UInt8] = []) throws(RaftError) -> RaftCore {
        guard state.isEmpty else { throw .alreadyInitialized }
        let cluster = ClusterConfig(voters: [config.id], addresses: [config.id: address])
        let initial = Snapshot(metadata: SnapshotMetadata(lastIncludedIndex: 1, lastIncludedTerm: 1, config: cluster),
                               data: initialData)
        var core = try RaftCore(config: config, state: PersistentState(hardState: HardState(term: 1, commit: 1), snapshot: initial))
        core.persistedHardState = HardState()
        core.log.requirePersisting(initial)
        core.campaign(core.config.preVote ? .preVote : .election)
        return core
    }

    // MARK: inputs

    /// Appends application data to the leader's log.
    @discardableResult
    public mutating func propose(_ data: [UInt8]) throws(RaftError) -> LogPosition {
        guard role == .leader else { throw .notLeader(leaderHint: leader) }
        guard transfer == nil else { throw .leadershipTransferInProgress }
        return appendAsLeader(kind: .normal, data: data)
    }

    /// A message from a peer. Messages from removed nodes, stale terms or
    /// unexpected roles are dropped or answered as Raft prescribes, and so is one
    /// no correct node could send (a term or index beyond `RaftBounds`).
    public mutating func step(_ message: Message) {
        guard message.to == id, message.from != id, message.boundsViolation == nil else { return }
        guard !log.committedConfig.removed.contains(message.from) else { return }
        if message.term > term {
            guard stepHigherTerm(message) else { return }
        } else if message.term < term {
            answerStaleTerm(message)
            return
        }
        switch message.body {
        case .requestVote(let request):
            handleVoteRequest(from: message.from, term: message.term, request)
        case .requestVoteResponse(let response):
            handleVoteResponse(from: message.from, term: message.term, response)
        case .appendEntries(let request):
            guard acceptLeader(message.from) else { return }
            handleAppendEntries(from: message.from, request)
        case .installSnapshot(let request):
            guard acceptLeader(message.from) else { return }
            handleInstallSnapshot(from: message.from, request)
        case .appendEntriesResponse(let response):
            guard role == .leader else { return }
            handleAppendResponse(from: message.from, response)
        case .installSnapshotResponse(let response):
            guard role == .leader else { return }
            handleSnapshotResponse(from: message.from, response)
        case .timeoutNow:
            guard role != .leader else { return }
            campaign(.transfer)
        case .readIndex(let request):
            guard role == .leader else { return }
            registerRead(ReadIndexState.Request(context: request.context, requester: message.from))
        case .readIndexResponse(let response):
            guard role != .leader else { return }
            readStates.append(ReadState(context: response.context, index: response.index))
        }
    }

    /// A message from a later term. Returns false if it must be dropped.
    private mutating func stepHigherTerm(_ message: Message) -> Bool {
        switch message.body {
        case .requestVote(let request):
            // Thesis §4.2.3: while a leader is known to be alive, vote requests
            // are ignored, so a removed or partitioned server cannot depose it.
            if !request.leadershipTransfer && inLease { return false }
            // A pre-vote never changes anybody's term.
            if !request.preVote { becomeFollower(term: message.term, leader: nil) }
        case .requestVoteResponse(let response) where response.preVote && response.granted:
            break // carries the term the pre-candidate is about to campaign in
        case .appendEntries, .installSnapshot, .timeoutNow:
            becomeFollower(term: message.term, leader: message.from)
        default:
            becomeFollower(term: message.term, leader: nil)
        }
        return true
    }

    /// Requests from an older term get our term back, so their sender steps down.
    private mutating func answerStaleTerm(_ message: Message) {
        switch message.body {
        case .appendEntries(let request):
            send(to: message.from, .appendEntriesResponse(AppendEntriesResponse(
                success: false, rejectedIndex: request.prevLogIndex, readRound: request.readRound)))
        case .installSnapshot:
            send(to: message.from, .installSnapshotResponse(InstallSnapshotResponse(matchIndex: 0)))
        case .requestVote(let request):
            send(to: message.from, .requestVoteResponse(RequestVoteResponse(granted: false, preVote: request.preVote)))
        default:
            break
        }
    }

    /// Someone leads the current term: follow it. False if that is us (cannot happen in a correct cluster).
    private mutating func acceptLeader(_ from: NodeID) -> Bool {
        guard role != .leader else { return false }
        if role != .follower || leader != from {
            becomeFollower(term: term, leader: from)
        }
        electionElapsed = 0
        return true
    }

    /// Followers that heard from a leader within an election timeout ignore vote requests.
    var inLease: Bool { config.checkQuorum && leader != nil && electionElapsed < config.electionTicks }

    mutating func send(to peer: NodeID, term messageTerm: UInt64? = nil, _ body: Message.Body) {
        outbox.append(Message(from: id, to: peer, term: messageTerm ?? term, body: body))
    }

    // MARK: observation

    public var hardState: HardState { HardState(term: term, votedFor: votedFor, commit: log.committed) }
    public var softState: SoftState { SoftState(role: role, leader: leader, term: term) }
    public var commitIndex: UInt64 { log.committed }
    public var appliedIndex: UInt64 { log.applied }
    public var lastIndex: UInt64 { log.lastIndex }
    public var lastTerm: UInt64 { log.lastTerm }
    public var snapshotIndex: UInt64 { log.snapshotIndex }
    /// The latest config in the log (it takes effect when appended).
    public var clusterConfig: ClusterConfig { log.config }
    /// The latest snapshot (installed, bootstrapped or made by `compact`).
    public var latestSnapshot: Snapshot? { log.snapshot }
    public func term(at index: UInt64) -> UInt64? { log.term(at: index) }
    public func entry(at index: UInt64) -> Entry? { log.entry(at: index) }

    /// Committed entries from `index` on, at most `maxCount` and about `maxBytes` of data (at
    /// least one when any is committed there); nil when `index` is compacted into the snapshot.
    public func committedEntries(from index: UInt64, maxCount: Int, maxBytes: Int) -> [Entry]? {
        guard index > log.snapshotIndex else { return nil }
        guard index <= log.committed, maxCount > 0 else { return [] }
        let limit = Int(min(UInt64(maxCount), log.committed - index + 1))
        return log.entries(from: index, maxCount: limit, maxBytes: maxBytes)
    }

    public var status: Status {
        var followers: [NodeID: FollowerProgress] = [:]
        let learners = log.config.learners
        for (peer, state) in progress { followers[peer] = state.status(isLearner: learners.contains(peer)) }
        return Status(id: id, role: role, term: term, leader: leader, commit: log.committed, applied: log.applied,
                      lastIndex: log.lastIndex, snapshotIndex: log.snapshotIndex, config: log.config,
                      configChangePending: log.lastConfigIndex > log.committed, progress: followers,
                      leadershipTransferTarget: transfer?.target)
    }
}
