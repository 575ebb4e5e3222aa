import Consensus

/// The log in memory: the entries after the snapshot, contiguous. Enforces the shape every
/// Raft log has (consecutive indices, terms never decreasing), for both appends and replay.
struct RaftLog {
    private(set) var snapshotIndex: UInt64 = 0
    private(set) var snapshotTerm: UInt64 = 0
    /// `entries[i].index == snapshotIndex + 1 + i`.
    private(set) var entries: [Entry] = []

    init(snapshotIndex: UInt64 = 0, snapshotTerm: UInt64 = 0) {
        self.snapshotIndex = snapshotIndex
        self.snapshotTerm = snapshotTerm
    }

    var firstIndex: UInt64 { snapshotIndex + 1 }
    var lastIndex: UInt64 { entries.last?.index ?? snapshotIndex }

    func term(at index: UInt64) -> UInt64? {
        if index == snapshotIndex { return snapshotTerm }
        guard index > snapshotIndex, index <= lastIndex else { return nil }
        return entries[position(of: index)].term
    }

    /// Entries in `from ..< to`.
    func entries(from: UInt64, to: UInt64) throws(RaftStorageError) -> [Entry] {
        guard from < to else { return [] }
        guard from > snapshotIndex else { throw .compacted(index: from, firstIndex: firstIndex) }
        guard to - 1 <= lastIndex else { throw .unavailable(index: to - 1, lastIndex: lastIndex) }
        return Array(entries[position(of: from)...position(of: to - 1)])
    }

    /// The part of `batch` that `append` would write: entries already covered by the snapshot
    /// are committed, so they cannot conflict and are dropped.
    func newEntries(in batch: [Entry]) throws(RaftStorageError) -> ArraySlice<Entry> {
        let fresh = batch.drop { $0.index <= snapshotIndex }
        guard let first = fresh.first else { return fresh }
        guard first.index - 1 <= lastIndex else {
            throw .invalidAppend(reason: "entry \(first.index) would leave a gap after the last index \(lastIndex)")
        }
        var previousTerm = term(at: first.index - 1)!
        var expectedIndex = first.index
        for entry in fresh {
            guard entry.index == expectedIndex else {
                throw .invalidAppend(reason: "entry \(entry.index) follows \(expectedIndex - 1); indices must be consecutive")
            }
            guard entry.term >= previousTerm else {
                throw .invalidAppend(reason: "entry \(entry.index) has term \(entry.term), below the term \(previousTerm) before it")
            }
            previousTerm = entry.term
            expectedIndex &+= 1
        }
        return fresh
    }

    /// Truncates from the first entry's index, then appends. `batch` must come from `newEntries(in:)`.
    mutating func append(_ batch: ArraySlice<Entry>) {
        guard let first = batch.first else { return }
        if first.index <= lastIndex { entries.removeSubrange(position(of: first.index)...) }
        entries.append(contentsOf: batch)
    }

    /// Moves the log's start to a snapshot. Entries after it survive only if the log agrees
    /// with the snapshot at its last index; otherwise the snapshot replaces the whole log
    /// (Raft's InstallSnapshot rule).
    mutating func compact(to metadata: SnapshotMetadata) {
        let index = metadata.lastIncludedIndex
        if index <= lastIndex, term(at: index) == metadata.lastIncludedTerm {
            entries.removeFirst(Int(index - snapshotIndex))
        } else {
            entries.removeAll()
        }
        snapshotIndex = index
        snapshotTerm = metadata.lastIncludedTerm
    }

    private func position(of index: UInt64) -> Int { Int(index - snapshotIndex - 1) }
}
