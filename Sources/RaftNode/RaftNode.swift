import Consensus
import GossipRPC
import Logging
import RaftStorage

/// Drives one `RaftCore`: ticks it, persists each Ready with one fsync before
/// anything is sent, dispatches messages through `PeerTransport`, applies
/// committed entries to the state machine and answers waiting callers.
///
/// Runs on its own event loop (fsync blocks that loop, never a server's), so
/// inputs that arrive during a write are batched into the next Ready.
public actor RaftNode<Machine: StateMachine> {
    public nonisolated let id: NodeID
    public nonisolated let address: String
    nonisolated let loop: EventLoop
    public nonisolated var unownedExecutor: UnownedSerialExecutor { loop.asUnownedSerialExecutor() }

    let options: RaftNodeOptions
    nonisolated let storage: RaftStorage
    let logger: Logger
    var core: RaftCore
    public private(set) var machine: Machine
    var transport: PeerTransport!

    /// Callers of inbound RPCs waiting for the core's answer.
    var waiters: [ResponseWaiter] = []
    var proposals: [UInt64: PendingProposal] = [:]
    var reads: [[UInt8]: PendingRead] = [:]
    var nextReadID: UInt64 = 0
    var ticks = 0
    var readyScheduled = false
    var tickTask: Task<Void, Never>?
    var failure: RaftNodeError?
    var lastSoftState: SoftState?
    var lastObservedConfig: ClusterConfig?
    var softStateObserver: (@Sendable (SoftState, ClusterConfig) -> Void)?
    var failureObserver: (@Sendable (RaftNodeError) -> Void)?

    /// `core` comes from `RaftCore(config:state:)` (restart or joiner) or `RaftCore.bootstrap`.
    public init(core: RaftCore, address: String, storage: RaftStorage, machine: Machine, options: RaftNodeOptions,
                logger: Logger = Logger(label: "gossipfl.raft")) throws {
        id = core.id
        self.address = address
        self.core = core
        self.storage = storage
        self.options = options
        self.logger = logger
        var restored = machine
        if let snapshot = core.latestSnapshot { try restored.restore(snapshot.data) }
        self.machine = restored
        loop = EventLoop(name: "raft-\(core.id)")
    }

    /// Makes the core config for `id` from the options (seeded per node and start).
    public static func coreConfig(id: NodeID, options: RaftNodeOptions, seed: UInt64) -> RaftConfig {
        RaftConfig(id: id, randomSeed: seed, electionTicks: options.electionTicks, heartbeatTicks: options.heartbeatTicks,
                   maxEntriesPerMessage: options.maxEntriesPerMessage, maxBytesPerMessage: options.maxAppendBytes,
                   maxInflightMessages: options.maxInflightMessages, maxInflightBytes: options.maxInflightBytes,
                   maxVoters: options.maxVoters)
    }

    /// Starts ticking. `transport` sends this node's requests to its peers.
    public func start(transport: PeerTransport) {
        self.transport = transport
        let interval = options.tickInterval
        tickTask = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                self.tick()
            }
        }
        scheduleReady()
    }

    /// Stops ticking and fails every waiting caller; the storage stays open for the owner to drop.
    public func stop() {
        tickTask?.cancel()
        tickTask = nil
        if failure == nil { failure = .stopped }
        failAllWaiting()
        transport?.close()
    }

    public nonisolated func shutdownLoop() { loop.shutdown() }

    /// Called on the node's executor whenever role, leader or term changes, and after config changes.
    /// The observer hears the current state at once: a node that bootstrapped is leader before
    /// anyone can watch, and would otherwise not report until something changed.
    public func observeSoftState(_ observer: @escaping @Sendable (SoftState, ClusterConfig) -> Void) {
        softStateObserver = observer
        if let lastSoftState { observer(lastSoftState, core.clusterConfig) }
    }

    /// Called once if the node stops on its own (storage failed): a process should exit.
    public func observeFailure(_ observer: @escaping @Sendable (RaftNodeError) -> Void) {
        failureObserver = observer
    }

    // MARK: inbound messages

    /// Steps a request from a peer and returns the core's answer to it (nil: no answer).
    func deliver(_ message: Message) async -> Message? {
        guard failure == nil else { return nil }
        core.step(message)
        scheduleReady()
        guard let expected = Self.responseKind(to: message) else { return nil }
        let readContext: [UInt8]? = if case .readIndex(let r) = message.body { r.context } else { nil }
        return await withCheckedContinuation { continuation in
            waiters.append(ResponseWaiter(peer: message.from, kind: expected, readContext: readContext,
                                          registeredAt: ticks, continuation: continuation))
        }
    }

    /// Steps a response that came back from a peer we called.
    func receive(_ message: Message) {
        guard failure == nil else { return }
        core.step(message)
        scheduleReady()
    }

    /// The transport could not reach `peer`: replication to it falls back to probing.
    func reportUnreachable(_ peer: NodeID) {
        guard failure == nil else { return }
        core.reportUnreachable(peer)
        scheduleReady()
    }

    static func responseKind(to message: Message) -> Message.Kind? {
        switch message.body {
        case .requestVote(let r): r.preVote ? .preVoteResponse : .requestVoteResponse
        case .appendEntries: .appendEntriesResponse
        case .installSnapshot: .installSnapshotResponse
        case .readIndex: .readIndexResponse
        default: nil
        }
    }

    // MARK: the Ready cycle

    func scheduleReady() {
        guard !readyScheduled else { return }
        readyScheduled = true
        Task { self.processReady() }
    }

    func tick() {
        guard failure == nil else { return }
        ticks += 1
        core.tick()
        expireWaiting()
        processReady()
    }

    func processReady() {
        readyScheduled = false
        while failure == nil, core.hasReady {
            // Requests stepped so far are answered in this Ready, or not at all (reads excepted).
            for i in waiters.indices where waiters[i].readContext == nil { waiters[i].armed = true }
            let ready = core.ready()
            do {
                try persist(ready)
            } catch {
                fail(.storageFailed("\(error)"))
                return
            }
            dispatch(ready.messages)
            answerUnanswered()
            do {
                try apply(ready)
            } catch {
                fail(.rejected("cannot apply: \(error)"))
                return
            }
            core.advance(ready)
            compactIfDue()
            reportSoftState(ready.softState)
        }
    }

    /// Step 1 of the Ready contract: one durable write before anything leaves this node.
    private func persist(_ ready: Ready) throws {
        if let snapshot = ready.snapshot { try storage.saveSnapshot(snapshot) }
        if let from = ready.truncateFrom, ready.entries.first?.index != from {
            throw RaftNodeError.rejected("Ready truncates from \(from) but its entries start at \(ready.entries.first?.index ?? 0)")
        }
        if !ready.entries.isEmpty { try storage.append(ready.entries) }
        if let hardState = ready.hardState { storage.setHardState(hardState) }
        if ready.mustPersist { try storage.sync() }
    }

    private func dispatch(_ messages: [Message]) {
        for message in messages {
            if let i = waiters.firstIndex(where: { $0.answers(message) }) {
                waiters.remove(at: i).continuation.resume(returning: message)
            } else if Self.responseKind(to: message) != nil || message.kind == .timeoutNow {
                transport?.send(message, address: core.clusterConfig.addresses[message.to])
            }
            // Otherwise a response whose caller has gone: drop it, Raft retries.
        }
    }

    private func answerUnanswered() {
        let unanswered = waiters.filter { $0.armed }
        waiters.removeAll { $0.armed }
        for waiter in unanswered { waiter.continuation.resume(returning: nil) }
    }

    private func apply(_ ready: Ready) throws {
        if let snapshot = ready.snapshot {
            try machine.restore(snapshot.data)
            for (index, pending) in proposals where index <= snapshot.metadata.lastIncludedIndex {
                // Covered by a snapshot from the leader: we cannot tell whether ours made it.
                proposals[index] = nil
                pending.continuation.resume(returning: .failure(.lost))
            }
        }
        for entry in ready.committedEntries {
            if entry.kind == .normal { machine.apply(entry.data, index: entry.index) }
            if let pending = proposals.removeValue(forKey: entry.index) {
                pending.continuation.resume(returning: pending.term == entry.term
                    ? .success(LogPosition(index: entry.index, term: entry.term)) : .failure(.lost))
            }
        }
        for state in ready.readStates {
            reads[state.context]?.index = state.index
        }
        serveReads(applied: ready.committedEntries.last?.index ?? core.appliedIndex)
    }

    private func serveReads(applied: UInt64) {
        let applied = max(applied, core.latestSnapshot?.metadata.lastIncludedIndex ?? 0)
        for (context, read) in reads {
            guard let index = read.index, index <= applied else { continue }
            reads[context] = nil
            read.continuation.resume(returning: .success(index))
        }
    }

    private func compactIfDue() {
        let applied = core.appliedIndex
        guard applied >= core.snapshotIndex + options.compactionThreshold else { return }
        do {
            let snapshot = try core.compact(upTo: applied, snapshotData: machine.snapshot())
            try storage.saveSnapshot(snapshot)
            logger.debug("compacted the log up to \(applied)")
        } catch let error as RaftError {
            logger.warning("compaction skipped: \(error)")
        } catch {
            fail(.storageFailed("saving a snapshot: \(error)"))
        }
    }

    private func reportSoftState(_ state: SoftState) {
        let config = core.clusterConfig
        guard state != lastSoftState || config != lastObservedConfig else { return }
        lastSoftState = state
        lastObservedConfig = config
        softStateObserver?(state, config)
    }

    private func fail(_ error: RaftNodeError) {
        logger.critical("raft node \(id) stopping: \(error)")
        failure = error
        tickTask?.cancel()
        failAllWaiting()
        failureObserver?(error)
    }

    private func failAllWaiting() {
        let error = failure ?? .stopped
        for waiter in waiters { waiter.continuation.resume(returning: nil) }
        waiters = []
        for (_, pending) in proposals { pending.continuation.resume(returning: .failure(error)) }
        proposals = [:]
        for (_, read) in reads { read.continuation.resume(returning: .failure(error)) }
        reads = [:]
    }

    private func expireWaiting() {
        let horizon = ticks - options.requestTimeoutTicks
        for (index, pending) in proposals where pending.registeredAt < horizon {
            proposals[index] = nil
            pending.continuation.resume(returning: .failure(.timedOut))
        }
        for (context, read) in reads where read.registeredAt < horizon {
            reads[context] = nil
            read.continuation.resume(returning: .failure(.timedOut))
        }
        // Forwarded reads the leader never confirmed (say, it lost leadership).
        let readHorizon = ticks - 2 * options.electionTicks
        let stale = waiters.filter { $0.readContext != nil && $0.registeredAt < readHorizon }
        waiters.removeAll { $0.readContext != nil && $0.registeredAt < readHorizon }
        for waiter in stale { waiter.continuation.resume(returning: nil) }
    }
}

struct ResponseWaiter {
    let peer: NodeID
    let kind: Message.Kind
    /// Set for forwarded reads: answered when the leader confirms, possibly Readies later.
    let readContext: [UInt8]?
    let registeredAt: Int
    let continuation: CheckedContinuation<Message?, Never>
    var armed = false

    func answers(_ message: Message) -> Bool {
        guard message.to == peer, message.kind == kind else { return false }
        if let readContext {
            guard case .readIndexResponse(let r) = message.body else { return false }
            return r.context == readContext
        }
        return armed
    }
}

struct PendingProposal {
    let term: UInt64
    let registeredAt: Int
    let continuation: CheckedContinuation<Result<LogPosition, RaftNodeError>, Never>
}

struct PendingRead {
    var index: UInt64?
    let registeredAt: Int
    let continuation: CheckedContinuation<Result<UInt64, RaftNodeError>, Never>
}
