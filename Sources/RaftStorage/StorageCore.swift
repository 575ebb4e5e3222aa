import Consensus

/// The storage state and its write paths. Not thread-safe; `RaftStorage` serialises access.
struct StorageCore {
    let layout: StorageLayout
    /// Held for the lifetime of the storage: see `FileSystem.lockDirectory`.
    let lock: OpenFile
    let segmentLimit: Int
    var log: RaftLog
    var hardState: HardState
    var snapshot: Snapshot?
    var writer: WALWriter
    /// Set by the first failed write or sync: after it, what is on disk is unknown.
    var failure: RaftStorageError?

    var persistentState: PersistentState {
        PersistentState(hardState: hardState, snapshot: snapshot, entries: log.entries)
    }

    mutating func append(_ entries: [Entry]) throws(RaftStorageError) {
        try checkHealthy()
        let fresh = try log.newEntries(in: entries)
        log.append(fresh)
        writer.append(fresh)
    }

    mutating func setHardState(_ state: HardState) {
        guard state != hardState else { return }
        hardState = state
        writer.append(state)
    }

    mutating func sync() throws(RaftStorageError) {
        try checkHealthy()
        try failing { core throws(RaftStorageError) in try core.writer.sync() }
    }

    /// Snapshot file first, then a checkpoint segment holding only what follows it, then the
    /// older segments and snapshots go. A crash at any point leaves a directory that recovery
    /// turns into the same state (see `Recovery.run`).
    mutating func saveSnapshot(_ new: Snapshot) throws(RaftStorageError) {
        try checkHealthy()
        let metadata = new.metadata
        guard metadata.lastIncludedIndex > log.snapshotIndex else {
            throw .staleSnapshot(index: metadata.lastIncludedIndex, currentIndex: log.snapshotIndex)
        }
        let snapshotPath = layout.snapshotPath(index: metadata.lastIncludedIndex, term: metadata.lastIncludedTerm)
        // AtomicFile leaves no new file behind when it fails, so this failure is harmless.
        try SnapshotFiles.write(new, to: snapshotPath)
        try failing { core throws(RaftStorageError) in
            core.log.compact(to: metadata)
            core.snapshot = new
            // The checkpoint carries everything still buffered, so the old writer's pending
            // records are dropped with it.
            core.writer = try WALWriter.checkpoint(
                layout: core.layout, segmentLimit: core.segmentLimit, sequence: core.writer.sequence + 1,
                base: (metadata.lastIncludedIndex, metadata.lastIncludedTerm), hardState: core.hardState, entries: core.log.entries)
            try core.deleteFilesBefore(checkpoint: core.writer.sequence, keepingSnapshot: snapshotPath)
        }
    }

    private func deleteFilesBefore(checkpoint: UInt64, keepingSnapshot keptSnapshot: String) throws(RaftStorageError) {
        let listing = try layout.list()
        for sequence in listing.segments where sequence < checkpoint {
            try FileSystem.remove(layout.segmentPath(sequence))
        }
        for name in listing.snapshots {
            let path = layout.snapshotPath(index: name.index, term: name.term)
            if path != keptSnapshot { try FileSystem.remove(path) }
        }
        try FileSystem.syncDirectory(layout.directory)
    }

    private func checkHealthy() throws(RaftStorageError) {
        if let failure { throw .failedEarlier(failure) }
    }

    /// Runs a write path; if it fails, refuses every later write (the state on disk is unknown
    /// until recovery reads it again).
    private mutating func failing(_ body: (inout StorageCore) throws(RaftStorageError) -> Void) throws(RaftStorageError) {
        do {
            try body(&self)
        } catch {
            failure = error
            throw error
        }
    }
}
