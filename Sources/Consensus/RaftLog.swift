/// The in-memory log: a snapshot prefix plus the entries after it, the commit
/// and applied indices, the membership history, and what still has to reach
/// storage. Entries are kept until the application compacts them.
struct RaftLog: Sendable {
    /// A config that took effect when the entry at `index` was appended.
    struct ConfigPoint: Sendable {
        var index: UInt64
        var config: ClusterConfig
    }

    private(set) var snapshot: Snapshot?
    private(set) var snapshotIndex: UInt64 = 0
    private(set) var snapshotTerm: UInt64 = 0
    /// Contiguous, starting at `snapshotIndex + 1`.
    private(set) var entries: [Entry] = []
    private(set) var committed: UInt64 = 0
    /// Acknowledged as applied by the driver (`advance`).
    private(set) var applied: UInt64 = 0

    /// Entries up to here are durable and match memory.
    private(set) var stableIndex: UInt64 = 0
    /// Entries from here on have not been handed to storage yet.
    private var unstableFrom: UInt64 = 1
    /// Storage's last index once every handed-out Ready is persisted.
    private var storageLastIndex: UInt64 = 0
    private var pendingTruncation: UInt64?
    private var snapshotToPersist: Snapshot?

    /// The config in the snapshot, and every config entry after it.
    private(set) var baseConfig = ClusterConfig()
    private(set) var configPoints: [ConfigPoint] = []

    init() {}

    /// The log as storage loaded it.
    init(restoring state: PersistentState, applied appliedIndex: UInt64?) throws(RaftError) {
        if let snapshot = state.snapshot {
            self.snapshot = snapshot
            snapshotIndex = snapshot.metadata.lastIncludedIndex
            snapshotTerm = snapshot.metadata.lastIncludedTerm
            baseConfig = snapshot.metadata.config
        }
        var expected = snapshotIndex + 1
        for entry in state.entries where entry.index > snapshotIndex {
            guard entry.index == expected else {
                throw .invalidPersistentState("entry \(entry.index) where \(expected) was expected")
            }
            guard entry.term >= lastTerm else {
                throw .invalidPersistentState("entry \(entry.index) has term \(entry.term) below its predecessor's")
            }
            appendWithoutTracking(entry)
            expected += 1
        }
        guard state.hardState.commit <= lastIndex else {
            throw .invalidPersistentState("commit \(state.hardState.commit) beyond the last index \(lastIndex)")
        }
        committed = max(state.hardState.commit, snapshotIndex)
        applied = min(max(appliedIndex ?? snapshotIndex, snapshotIndex), committed)
        stableIndex = lastIndex
        unstableFrom = lastIndex + 1
        storageLastIndex = lastIndex
    }

    // MARK: reading

    var firstIndex: UInt64 { snapshotIndex + 1 }
    var lastIndex: UInt64 { snapshotIndex + UInt64(entries.count) }
    var lastTerm: UInt64 { entries.last?.term ?? snapshotTerm }

    /// The term at `index`: known for the snapshot's last entry and everything after it.
    func term(at index: UInt64) -> UInt64? {
        if index == snapshotIndex { return snapshotTerm }
        guard index > snapshotIndex, index <= lastIndex else { return nil }
        return entries[position(index)].term
    }

    func entry(at index: UInt64) -> Entry? {
        guard index > snapshotIndex, index <= lastIndex else { return nil }
        return entries[position(index)]
    }

    /// Up to `maxCount` entries starting at `index` (which must be after the snapshot), while
    /// their data stays within `maxBytes`; the first entry is always included, whatever its size.
    func entries(from index: UInt64, maxCount: Int, maxBytes: Int) -> [Entry] {
        guard index > snapshotIndex, index <= lastIndex else { return [] }
        let start = position(index)
        var end = start, bytes = 0
        while end < min(entries.count, start + maxCount) {
            bytes += entries[end].data.count
            if end > start && bytes > maxBytes { break }
            end += 1
        }
        return Array(entries[start..<end])
    }

    /// Entries in `from...through`, clamped to what is in memory.
    func entries(from: UInt64, through: UInt64) -> [Entry] {
        let low = max(from, snapshotIndex + 1)
        let high = min(through, lastIndex)
        guard low <= high else { return [] }
        return Array(entries[position(low)...position(high)])
    }

    /// Does the candidate's log (last index and term) hold everything ours does? (§5.4.1)
    func isUpToDate(lastIndex otherIndex: UInt64, lastTerm otherTerm: UInt64) -> Bool {
        otherTerm > lastTerm || (otherTerm == lastTerm && otherIndex >= lastIndex)
    }

    /// The last index at or below `limit` holding `term` (terms never decrease along the log).
    func lastIndex(ofTerm term: UInt64, atOrBelow limit: UInt64) -> UInt64? {
        var low = snapshotIndex, high = min(limit, lastIndex)
        guard high >= low, let termAtLow = self.term(at: low), termAtLow <= term else { return nil }
        // Invariant: term(low) <= term; find the largest such index.
        while low < high {
            let mid = low + (high - low + 1) / 2
            if self.term(at: mid)! <= term { low = mid } else { high = mid - 1 }
        }
        return self.term(at: low) == term ? low : nil
    }

    /// The first index after `floor` holding the same term as `index` (for a rejection hint).
    func firstIndex(ofTermAt index: UInt64, above floor: UInt64) -> UInt64 {
        guard let term = self.term(at: index) else { return index }
        var low = max(floor, snapshotIndex) + 1, high = index
        guard low <= high else { return index }
        while low < high {
            let mid = low + (high - low) / 2
            if self.term(at: mid)! < term { low = mid + 1 } else { high = mid }
        }
        return low
    }

    // MARK: membership

    /// The latest config in the log (configs take effect when appended).
    var config: ClusterConfig { configPoints.last?.config ?? baseConfig }
    /// Index of the latest config entry (0 when the config comes from the snapshot).
    var lastConfigIndex: UInt64 { configPoints.last?.index ?? 0 }

    /// The config in effect at `index`.
    func config(at index: UInt64) -> ClusterConfig {
        for point in configPoints.reversed() where point.index <= index { return point.config }
        return baseConfig
    }

    var committedConfig: ClusterConfig { config(at: committed) }

    // MARK: writing

    /// Appends one entry at `lastIndex + 1` (the leader's path).
    mutating func append(_ entry: Entry) {
        precondition(entry.index == lastIndex + 1 && entry.term >= lastTerm, "non-contiguous append")
        appendWithoutTracking(entry)
    }

    /// A follower takes the leader's entries after `prevIndex` (which matched).
    /// Entries it already has are skipped; at the first conflict it truncates
    /// and appends the rest. Returns the index of the last new entry.
    mutating func merge(after prevIndex: UInt64, _ incoming: [Entry]) -> UInt64 {
        for (offset, entry) in incoming.enumerated() {
            if let existing = term(at: entry.index) {
                if existing == entry.term { continue }
                precondition(entry.index > committed, "leader conflicts with committed entry \(entry.index)")
                truncate(from: entry.index)
            }
            for rest in incoming[offset...] { append(rest) }
            break
        }
        return prevIndex + UInt64(incoming.count)
    }

    private mutating func truncate(from index: UInt64) {
        entries.removeLast(Int(lastIndex - index + 1))
        configPoints.removeAll { $0.index >= index }
        if index <= storageLastIndex { pendingTruncation = min(pendingTruncation ?? index, index) }
        unstableFrom = min(unstableFrom, index)
        stableIndex = min(stableIndex, index - 1)
    }

    private mutating func appendWithoutTracking(_ entry: Entry) {
        entries.append(entry)
        if entry.kind == .configChange {
            configPoints.append(ConfigPoint(index: entry.index, config: config.applying(entry)))
        }
    }

    mutating func commit(to index: UInt64) {
        precondition(index <= lastIndex, "commit beyond the log")
        if index > committed { committed = index }
    }

    /// Installs a leader's snapshot (which is ahead of our commit). Figure 13
    /// rule 7: if we hold the snapshot's last entry, keep what follows it;
    /// otherwise the whole log goes.
    mutating func install(_ incoming: Snapshot) {
        let index = incoming.metadata.lastIncludedIndex
        precondition(index > committed, "snapshot at or below commit")
        if term(at: index) == incoming.metadata.lastIncludedTerm {
            entries.removeFirst(Int(index - snapshotIndex))
            configPoints.removeAll { $0.index <= index }
        } else {
            entries.removeAll()
            configPoints.removeAll()
            if storageLastIndex > index { pendingTruncation = min(pendingTruncation ?? index + 1, index + 1) }
            stableIndex = min(stableIndex, index)
        }
        snapshot = incoming
        snapshotIndex = index
        snapshotTerm = incoming.metadata.lastIncludedTerm
        baseConfig = incoming.metadata.config
        committed = index
        unstableFrom = max(unstableFrom, index + 1)
        snapshotToPersist = incoming
    }

    /// Replaces the prefix up to `index` (applied, durable) by a snapshot with `data`.
    mutating func compact(upTo index: UInt64, data: [UInt8]) -> Snapshot {
        precondition(index > snapshotIndex && index <= applied && index <= stableIndex)
        let metadata = SnapshotMetadata(lastIncludedIndex: index, lastIncludedTerm: term(at: index)!, config: config(at: index))
        let made = Snapshot(metadata: metadata, data: data)
        entries.removeFirst(Int(index - snapshotIndex))
        configPoints.removeAll { $0.index <= index }
        snapshot = made
        snapshotIndex = index
        snapshotTerm = metadata.lastIncludedTerm
        baseConfig = metadata.config
        return made
    }

    /// Marks a freshly bootstrapped snapshot as not yet on disk.
    mutating func requirePersisting(_ bootstrap: Snapshot) {
        snapshotToPersist = bootstrap
        stableIndex = 0
        storageLastIndex = 0
    }

    // MARK: storage hand-off

    var hasUnpersisted: Bool { snapshotToPersist != nil || pendingTruncation != nil || unstableFrom <= lastIndex }

    /// The first committed index not yet handed to the application.
    private var nextToApply: UInt64 { max(applied, snapshotIndex) + 1 }
    var hasCommittedToApply: Bool { committed >= nextToApply }

    /// Hands everything storage is missing to a Ready.
    mutating func takeUnpersisted() -> (snapshot: Snapshot?, truncateFrom: UInt64?, entries: [Entry]) {
        let result = (snapshotToPersist, pendingTruncation, entries(from: unstableFrom, through: lastIndex))
        snapshotToPersist = nil
        pendingTruncation = nil
        unstableFrom = lastIndex + 1
        storageLastIndex = lastIndex
        return result
    }

    func committedToApply() -> [Entry] { entries(from: nextToApply, through: committed) }

    /// Storage persisted entries up to (index, term); ignored if memory changed there since.
    mutating func stable(to index: UInt64, term: UInt64) {
        if self.term(at: index) == term { stableIndex = max(stableIndex, index) }
    }

    mutating func snapshotPersisted(_ persisted: SnapshotMetadata) {
        if persisted.lastIncludedIndex <= snapshotIndex { stableIndex = max(stableIndex, persisted.lastIncludedIndex) }
        applied = max(applied, persisted.lastIncludedIndex)
    }

    mutating func applied(to index: UInt64) {
        applied = max(applied, min(index, committed))
    }

    private func position(_ index: UInt64) -> Int { Int(index - snapshotIndex - 1) }
}
