/// Everything the core wants done, handed out by `RaftCore.ready()`.
///
/// Driver contract, in this order, for every Ready:
///  1. **Persist** (one durable write, fsync before going on):
///     a. if `snapshot` is set: store it (replacing any older snapshot) and delete
///        every stored entry with index ≤ `snapshot.metadata.lastIncludedIndex`;
///     b. if `truncateFrom` is set: delete every stored entry with index ≥ `truncateFrom`;
///     c. append `entries` (contiguous; the first one follows the last stored entry,
///        or the snapshot);
///     d. if `hardState` is set: store it.
///     If a crash can tear this write, recovery must lose a suffix of it in the
///     order above (never the hard state without the entries before it).
///  2. **Send** `messages` (best effort; the core tolerates loss and reordering).
///     Never before step 1: votes and acknowledgements promise durability.
///  3. **Apply**: if `snapshot` is set, first replace the state machine with
///     `snapshot.data`; then apply `committedEntries` in order. Serve each read in
///     `readStates` once the applied index reaches its `index`.
///  4. Call `advance(ready)`. Until then `hasReady` is false and `ready()` must
///     not be called; `tick`, `step`, `propose` and friends may still be called.
///
/// A crash anywhere before step 1 completes loses this Ready and is safe: on
/// restart the core is rebuilt from what storage holds.
public struct Ready: Equatable, Sendable {
    /// Role, leader and term, for observers (always present).
    public var softState: SoftState
    /// Term, vote and commit to persist; nil when unchanged since the last Ready.
    public var hardState: HardState?
    /// A snapshot received from the leader (not one made by `compact`, which the
    /// driver persists itself).
    public var snapshot: Snapshot?
    /// The stored log diverged from the leader's at this index: delete it and everything after.
    public var truncateFrom: UInt64?
    /// New log entries to append; when `truncateFrom` is set they start at it.
    public var entries: [Entry]
    /// Committed entries to apply, in index order, after persisting.
    public var committedEntries: [Entry]
    public var messages: [Message]
    public var readStates: [ReadState]

    public init(softState: SoftState, hardState: HardState? = nil, snapshot: Snapshot? = nil, truncateFrom: UInt64? = nil,
                entries: [Entry] = [], committedEntries: [Entry] = [], messages: [Message] = [], readStates: [ReadState] = []) {
        self.softState = softState
        self.hardState = hardState
        self.snapshot = snapshot
        self.truncateFrom = truncateFrom
        self.entries = entries
        self.committedEntries = committedEntries
        self.messages = messages
        self.readStates = readStates
    }

    /// True when there is something to write to disk in step 1.
    public var mustPersist: Bool { hardState != nil || snapshot != nil || truncateFrom != nil || !entries.isEmpty }
}

public enum Role: String, Equatable, Hashable, Sendable {
    case follower, preCandidate, candidate, leader
}

public struct SoftState: Equatable, Hashable, Sendable {
    public var role: Role
    public var leader: NodeID?
    public var term: UInt64

    public init(role: Role, leader: NodeID?, term: UInt64) {
        self.role = role
        self.leader = leader
        self.term = term
    }
}

/// A linearizable read confirmed by the leader: serve it once applied ≥ `index`.
public struct ReadState: Equatable, Hashable, Sendable {
    public var context: [UInt8]
    public var index: UInt64

    public init(context: [UInt8], index: UInt64) {
        self.context = context
        self.index = index
    }
}

/// Where a proposal landed: it is committed iff an entry with this index *and*
/// term is later applied; a different term at that index means it was lost.
public struct LogPosition: Equatable, Hashable, Sendable {
    public var index: UInt64
    public var term: UInt64

    public init(index: UInt64, term: UInt64) {
        self.index = index
        self.term = term
    }
}
