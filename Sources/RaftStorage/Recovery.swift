import Consensus
import Durable

/// Rebuilds the storage state from a directory at open: the newest usable snapshot, then the
/// WAL from its newest checkpoint segment. Everything is validated before anything on disk is
/// changed, so a failed open leaves the directory as it found it.
struct Recovery {
    struct Recovered {
        var log: RaftLog
        var hardState: HardState
        var snapshot: Snapshot?
        var writer: WALWriter
    }

    let layout: StorageLayout
    let segmentLimit: Int
    let report: @Sendable (String) -> Void

    func run() throws(RaftStorageError) -> Recovered {
        let listing = try layout.list()
        let snapshots = try loadNewestSnapshot(listing)
        let wal = try readWAL(listing.segments)
        var (log, hardState) = try replay(wal.live)

        let snapshot = snapshots.usable
        var needsCheckpoint = wal.live.isEmpty
        if let checkpoint = wal.live.first {
            try checkSnapshot(snapshots, covers: checkpoint)
            if let snapshot, snapshot.metadata.lastIncludedIndex > log.snapshotIndex {
                report("snapshot at index \(snapshot.metadata.lastIncludedIndex) is newer than the WAL checkpoint at index "
                       + "\(log.snapshotIndex): completing a compaction that a crash interrupted")
                log.compact(to: snapshot.metadata)
                needsCheckpoint = true
            }
        } else if !listing.snapshots.isEmpty {
            // The first checkpoint is written before any snapshot can be, and segments are only
            // deleted once a newer checkpoint is durable: the WAL was removed from outside.
            throw .inconsistentWAL(file: layout.directory, reason: "snapshot files exist but no WAL segment does, "
                                   + "so the hard state (term and vote) is lost")
        }

        // Validation is done; from here on, tidy up and open the log for writing.
        for path in listing.temporaryFiles {
            report("deleting \(path), left half-written by a crash")
            try FileSystem.remove(path)
        }
        if let empty = wal.emptyNewest {
            report("deleting \(layout.segmentPath(empty)): a crash cut its creation short, before anything in it was synced")
            try FileSystem.remove(layout.segmentPath(empty))
        }
        let writer: WALWriter
        var obsoleteSegments = wal.obsolete
        if needsCheckpoint {
            writer = try WALWriter.checkpoint(layout: layout, segmentLimit: segmentLimit,
                                              sequence: (listing.segments.last ?? 0) + 1,
                                              base: (log.snapshotIndex, log.snapshotTerm), hardState: hardState, entries: log.entries)
            obsoleteSegments += wal.live.map(\.sequence)
        } else {
            let newest = wal.live[wal.live.count - 1]
            if let damage = newest.scan.damage {
                report("truncating the torn tail of \(newest.path) at byte offset \(damage.offset) "
                       + "(\(newest.scan.fileLength - damage.offset) bytes dropped: \(damage.reason))")
            }
            writer = try WALWriter.resume(layout: layout, segmentLimit: segmentLimit, sequence: newest.sequence,
                                          validLength: newest.scan.validLength, fileLength: newest.scan.fileLength)
        }
        for sequence in obsoleteSegments {
            report("deleting \(layout.segmentPath(sequence)), superseded by a newer checkpoint")
            try FileSystem.remove(layout.segmentPath(sequence))
        }
        for old in snapshots.older {
            report("deleting \(layout.snapshotPath(index: old.index, term: old.term)), superseded by a newer snapshot")
            try FileSystem.remove(layout.snapshotPath(index: old.index, term: old.term))
        }
        if wal.emptyNewest != nil || !obsoleteSegments.isEmpty || !snapshots.older.isEmpty || !listing.temporaryFiles.isEmpty {
            try FileSystem.syncDirectory(layout.directory)
        }
        return Recovered(log: log, hardState: hardState, snapshot: snapshot, writer: writer)
    }

    // MARK: Snapshots

    private struct SnapshotChoice {
        var usable: Snapshot?
        /// Files newer than `usable` that failed to load, with the reason.
        var unusable: [String] = []
        /// Files older than `usable`, no longer needed.
        var older: [(index: UInt64, term: UInt64)] = []
    }

    private func loadNewestSnapshot(_ listing: StorageLayout.Listing) throws(RaftStorageError) -> SnapshotChoice {
        var choice = SnapshotChoice()
        for (position, name) in listing.snapshots.enumerated() {
            let path = layout.snapshotPath(index: name.index, term: name.term)
            do {
                choice.usable = try SnapshotFiles.read(path, index: name.index, term: name.term)
                choice.older = Array(listing.snapshots[(position + 1)...])
                return choice
            } catch {
                guard case .corruptSnapshot = error else { throw error }
                report("skipping snapshot: \(error)")
                choice.unusable.append(error.description)
            }
        }
        return choice
    }

    /// The WAL's checkpoint continues from a snapshot; that snapshot (or a newer one) must exist.
    private func checkSnapshot(_ snapshots: SnapshotChoice, covers checkpoint: LiveSegment) throws(RaftStorageError) {
        guard let header = checkpoint.header, header.baseIndex > 0 else { return }
        guard let snapshot = snapshots.usable, snapshot.metadata.lastIncludedIndex >= header.baseIndex else {
            var detail = snapshots.usable.map { "the newest usable snapshot is at index \($0.metadata.lastIncludedIndex)" }
                ?? "there is no usable snapshot file"
            if !snapshots.unusable.isEmpty { detail += "; " + snapshots.unusable.joined(separator: "; ") }
            throw .missingSnapshot(neededIndex: header.baseIndex, walFile: checkpoint.path, detail: detail)
        }
        let metadata = snapshot.metadata
        if metadata.lastIncludedIndex == header.baseIndex, metadata.lastIncludedTerm != header.baseTerm {
            throw .corruptSnapshot(file: layout.snapshotPath(index: metadata.lastIncludedIndex, term: metadata.lastIncludedTerm),
                                   reason: "its term \(metadata.lastIncludedTerm) disagrees with the term \(header.baseTerm) "
                                   + "that WAL \(checkpoint.path) records for index \(header.baseIndex)")
        }
    }

    // MARK: WAL

    struct LiveSegment {
        var sequence: UInt64
        var path: String
        var scan: SegmentScan

        var header: SegmentHeader? {
            guard case .segmentHeader(let header)? = scan.records.first?.record else { return nil }
            return header
        }
    }

    private struct WALFiles {
        /// From the newest checkpoint to the newest segment, ascending.
        var live: [LiveSegment] = []
        /// Segments before the newest checkpoint.
        var obsolete: [UInt64] = []
        /// The newest segment, when a crash left it without a single complete record.
        var emptyNewest: UInt64?
    }

    /// Reads segments from the newest back to the newest checkpoint. Only the newest file may
    /// end in a torn record; every older one was fully synced before a newer one was created.
    private func readWAL(_ sequences: [UInt64]) throws(RaftStorageError) -> WALFiles {
        var files = WALFiles()
        var foundCheckpoint = false
        for (position, sequence) in sequences.enumerated().reversed() {
            let path = layout.segmentPath(sequence)
            let isNewestFile = position == sequences.count - 1
            let scan = try WALReader.scan(try readFile(path), file: path)
            if let damage = scan.damage {
                if let after = damage.intactRecordAfter {
                    throw .corruptWAL(file: path, offset: damage.offset, reason: "\(damage.reason); an intact record follows "
                                      + "at offset \(after), so this is not a write cut short by a crash")
                }
                if !isNewestFile {
                    throw .corruptWAL(file: path, offset: damage.offset, reason: "\(damage.reason); a newer segment exists, "
                                      + "so this one was complete and cannot have a torn tail")
                }
            }
            let segment = LiveSegment(sequence: sequence, path: path, scan: scan)
            guard let header = segment.header else {
                if scan.records.isEmpty, isNewestFile {
                    files.emptyNewest = sequence
                    continue
                }
                throw .corruptWAL(file: path, offset: 0, reason: "the segment does not start with a segment header")
            }
            guard header.sequence == sequence else {
                throw .corruptWAL(file: path, offset: 0, reason: "the header says segment \(header.sequence)")
            }
            files.live.append(segment)
            if header.kind == .checkpoint {
                foundCheckpoint = true
                files.obsolete = Array(sequences[..<position])
                break
            }
        }
        files.live.reverse()
        if let oldest = files.live.first, !foundCheckpoint {
            throw .inconsistentWAL(file: oldest.path, reason: "no checkpoint segment precedes it; older segments are missing")
        }
        for (older, newer) in zip(files.live, files.live.dropFirst()) where newer.sequence != older.sequence + 1 {
            throw .inconsistentWAL(file: newer.path, reason: "segment \(older.sequence + 1) between it and \(older.path) is missing")
        }
        return files
    }

    private func replay(_ segments: [LiveSegment]) throws(RaftStorageError) -> (RaftLog, HardState) {
        var log = RaftLog()
        var hardState = HardState()
        if let checkpoint = segments.first?.header {
            log = RaftLog(snapshotIndex: checkpoint.baseIndex, snapshotTerm: checkpoint.baseTerm)
        }
        for segment in segments {
            for (position, (offset, record)) in segment.scan.records.enumerated() {
                switch record {
                case .segmentHeader:
                    if position > 0 {
                        throw .corruptWAL(file: segment.path, offset: offset, reason: "a segment header in the middle of a segment")
                    }
                case .hardState(let state):
                    hardState = state
                case .entry(let entry):
                    guard entry.index > log.snapshotIndex else {
                        throw .corruptWAL(file: segment.path, offset: offset, reason: "entry \(entry.index) is at or before "
                                          + "the checkpoint's snapshot index \(log.snapshotIndex)")
                    }
                    do {
                        log.append(try log.newEntries(in: [entry]))
                    } catch {
                        throw .corruptWAL(file: segment.path, offset: offset, reason: error.description)
                    }
                }
            }
        }
        return (log, hardState)
    }

    private func readFile(_ path: String) throws(RaftStorageError) -> [UInt8] {
        let bytes: [UInt8]?
        do {
            bytes = try AtomicFile.read(path)
        } catch {
            throw .io(operation: "read segment", path: path, reason: error.description)
        }
        guard let bytes else { throw .inconsistentWAL(file: path, reason: "the segment disappeared while opening") }
        return bytes
    }
}
