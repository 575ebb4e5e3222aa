import Consensus
import Foundation
import Testing
@testable import RaftStorage

@Suite struct SnapshotTests {
    @Test func aSnapshotCompactsTheWALAndSurvivesReopen() throws {
        try withTemporaryDirectory { directory in
            let hardState = HardState(term: 2, votedFor: "n1", commit: 150)
            let walBefore = try withStorage(directory, options: quiet.with(segmentBytes: 4096)) { storage in
                for start in stride(from: UInt64(1), through: 191, by: 10) {
                    try storage.append(makeEntries(start...(start + 9), term: start < 100 ? 1 : 2, size: 100))
                    try storage.sync()
                }
                storage.setHardState(hardState)
                try storage.sync()
                return try directory.walBytes()
            }
            #expect(try directory.segments().count > 3)

            let snapshot = makeSnapshot(index: 150, term: 2)
            try withStorage(directory) { storage in
                try storage.saveSnapshot(snapshot)
                #expect(storage.firstIndex == 151)
                #expect(storage.lastIndex == 200)
                #expect(storage.term(at: 150) == 2)
                #expect(storage.term(at: 149) == nil)
                #expect(throws: RaftStorageError.compacted(index: 150, firstIndex: 151)) { try storage.entries(from: 150, to: 152) }
                #expect(try storage.entries(from: 151, to: 201) == makeEntries(151...200, term: 2, size: 100))
            }
            #expect(try directory.segments().count == 1)
            #expect(try directory.snapshots().count == 1)
            let walAfter = try directory.walBytes()
            #expect(walAfter < walBefore / 3, "WAL went from \(walBefore) to \(walAfter) bytes")

            let state = try recover(directory)
            #expect(state.snapshot == snapshot)
            #expect(state.entries == makeEntries(151...200, term: 2, size: 100))
            #expect(state.hardState == hardState)
        }
    }

    @Test func aNewerSnapshotReplacesTheOlderFile() throws {
        try withTemporaryDirectory { directory in
            try withStorage(directory) { storage in
                try storage.append(makeEntries(1...30, term: 1))
                try storage.saveSnapshot(makeSnapshot(index: 10, term: 1))
                try storage.append(makeEntries(31...40, term: 1))
                try storage.saveSnapshot(makeSnapshot(index: 25, term: 1))
                #expect(throws: RaftStorageError.staleSnapshot(index: 20, currentIndex: 25)) {
                    try storage.saveSnapshot(makeSnapshot(index: 20, term: 1))
                }
            }
            #expect(try directory.snapshots().map { ($0 as NSString).lastPathComponent }
                == ["snapshot-0000000000000019-0000000000000001.snap"])
            let state = try recover(directory)
            #expect(state.snapshot == makeSnapshot(index: 25, term: 1))
            #expect(state.entries == makeEntries(26...40, term: 1))
        }
    }

    /// saveSnapshot makes appends that were not synced yet durable too.
    @Test func pendingAppendsBecomeDurableWithTheSnapshot() throws {
        try withTemporaryDirectory { directory in
            try withStorage(directory) { storage in
                try storage.append(makeEntries(1...20, term: 1))
                storage.setHardState(HardState(term: 1, votedFor: "n2", commit: 12))
                try storage.saveSnapshot(makeSnapshot(index: 12, term: 1))
            }
            let state = try recover(directory)
            #expect(state.entries == makeEntries(13...20, term: 1))
            #expect(state.hardState == HardState(term: 1, votedFor: "n2", commit: 12))
        }
    }

    /// A leader's snapshot past the end of the log, or disagreeing with it, replaces the log.
    @Test func aSnapshotTheLogDisagreesWithReplacesTheLog() throws {
        try withTemporaryDirectory { directory in
            try withStorage(directory) { storage in
                try storage.append(makeEntries(1...10, term: 1))
                try storage.saveSnapshot(makeSnapshot(index: 5, term: 2))
                #expect(storage.lastIndex == 5)
                #expect(storage.term(at: 5) == 2)
                try storage.saveSnapshot(makeSnapshot(index: 20, term: 3))
                #expect(storage.firstIndex == 21)
                #expect(storage.lastIndex == 20)
                try storage.append(makeEntries(21...22, term: 3))
                try storage.sync()
            }
            let state = try recover(directory)
            #expect(state.snapshot == makeSnapshot(index: 20, term: 3))
            #expect(state.entries == makeEntries(21...22, term: 3))
        }
    }

    /// The snapshot file is durable but the process died before the WAL was rewritten: both
    /// the old WAL and the new snapshot are there. Recovery finishes the compaction.
    @Test func aCrashBeforeCompactionRecoversFromSnapshotAndOldWAL() throws {
        try withTemporaryDirectory { directory in
            let hardState = HardState(term: 1, votedFor: "n3", commit: 15)
            try withStorage(directory) { storage in
                try storage.append(makeEntries(1...20, term: 1))
                storage.setHardState(hardState)
                try storage.sync()
            }
            let oldSegments = try directory.segments()
            let snapshot = makeSnapshot(index: 15, term: 1)
            try SnapshotFiles.write(snapshot, to: StorageLayout(directory: directory.path).snapshotPath(index: 15, term: 1))

            let lines = LogLines()
            let state = try recover(directory, options: lines.options)
            #expect(state.snapshot == snapshot)
            #expect(state.entries == makeEntries(16...20, term: 1))
            #expect(state.hardState == hardState)
            #expect(lines.all.contains { $0.contains("completing a compaction") })
            #expect(Set(try directory.segments()).isDisjoint(with: oldSegments), "the old WAL is replaced")
            #expect(try recover(directory) == state)
        }
    }

    /// The new checkpoint segment is durable but the old segments and snapshot were not deleted yet.
    @Test func aCrashBeforeCleanupRecoversFromTheCheckpoint() throws {
        try withTemporaryDirectory { directory in
            let saved = try withStorage(directory, options: quiet.with(segmentBytes: 1024)) { storage in
                try storage.append(makeEntries(1...30, term: 1, size: 64))
                try storage.saveSnapshot(makeSnapshot(index: 5, term: 1))
                for index in UInt64(31)...60 {
                    try storage.append(makeEntries(index...index, term: 2, size: 64))
                    try storage.sync()
                }
                let leftovers = try (directory.segments() + directory.snapshots()).map { ($0, try readFile($0)) }
                try storage.saveSnapshot(makeSnapshot(index: 40, term: 2))
                for (path, bytes) in leftovers { try writeFile(path, bytes) }
                return storage.persistentState
            }
            #expect(try directory.segments().count > 2)
            #expect(try directory.snapshots().count == 2)
            #expect(try recover(directory) == saved)
            #expect(try directory.segments().count == 1)
            #expect(try directory.snapshots().count == 1)
        }
    }
}
