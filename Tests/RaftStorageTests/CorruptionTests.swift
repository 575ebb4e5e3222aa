import Consensus
import Foundation
import Testing
@testable import RaftStorage

/// Damage that a crash cannot explain must stop the node with an error naming the place,
/// never silently lose synced data.
@Suite struct CorruptionTests {
    /// Flips each byte of a record that has intact records after it, one at a time.
    @Test func aDamagedRecordInTheMiddleNamesTheFileAndOffset() throws {
        try withTemporaryDirectory { directory in
            try withStorage(directory) { storage in
                for index in UInt64(1)...5 {
                    try storage.append(makeEntries(index...index, term: 1))
                    try storage.sync()
                }
            }
            let segment = try #require(try directory.segments().last)
            let original = try readFile(segment)
            let offsets = try recordOffsets(original)
            let damagedRecord = offsets[3]  // header, hard state, entries 1, 2, ...
            for position in damagedRecord..<offsets[4] {
                var damaged = original
                damaged[position] ^= 0x40
                try writeFile(segment, damaged)
                let error = try #require(openingError(directory), "byte \(position)")
                guard case .corruptWAL(let file, let offset, let reason) = error else {
                    Issue.record("byte \(position): \(error)")
                    continue
                }
                #expect(file == segment)
                #expect(offset == damagedRecord, "byte \(position): \(reason)")
                #expect(reason.contains("intact record follows at offset \(offsets[4])"))
                #expect(error.description.contains(segment) && error.description.contains("byte offset \(damagedRecord)"))
                #expect(try readFile(segment) == damaged, "a failed open changes nothing on disk")
            }
        }
    }

    /// Older segments were synced in full before a newer one was created, so even damage at
    /// their very end is corruption.
    @Test func aDamagedTailInAnOlderSegmentIsAnError() throws {
        try withTemporaryDirectory { directory in
            try withStorage(directory, options: LogLines().options(segmentBytes: 512)) { storage in
                for index in UInt64(1)...40 {
                    try storage.append(makeEntries(index...index, term: 1, size: 64))
                    try storage.sync()
                }
            }
            let segments = try directory.segments()
            #expect(segments.count > 2)
            let older = segments[segments.count - 2]
            let bytes = try readFile(older)
            let lastRecord = try recordOffsets(bytes).last!
            try writeFile(older, Array(bytes.dropLast()))
            let error = openingError(directory)
            guard case .corruptWAL(older, lastRecord, let reason)? = error else {
                Issue.record("expected corruption in \(older) at \(lastRecord), got \(String(describing: error))")
                return
            }
            #expect(reason.contains("newer segment exists"))
        }
    }

    @Test func aMissingSegmentIsAnError() throws {
        try withTemporaryDirectory { directory in
            try withStorage(directory, options: quiet.with(segmentBytes: 512)) { storage in
                for index in UInt64(1)...40 {
                    try storage.append(makeEntries(index...index, term: 1, size: 64))
                    try storage.sync()
                }
            }
            let segments = try directory.segments()
            try FileManager.default.removeItem(atPath: segments[1])
            guard case .inconsistentWAL(segments[2], let reason)? = openingError(directory) else {
                Issue.record("a missing segment went unnoticed")
                return
            }
            #expect(reason.contains("segment 2"))

            try FileManager.default.removeItem(atPath: segments[0])
            guard case .inconsistentWAL(segments[2], let noCheckpoint)? = openingError(directory) else {
                Issue.record("missing leading segments went unnoticed")
                return
            }
            #expect(noCheckpoint.contains("no checkpoint"))
        }
    }

    /// A record that passes its checksum but skips an index is a bug or tampering, not a crash.
    @Test func aGapInTheLoggedIndicesIsAnError() throws {
        try withTemporaryDirectory { directory in
            try withStorage(directory) { storage in
                try storage.append(makeEntries(1...3, term: 1))
                try storage.sync()
            }
            let segment = try #require(try directory.segments().last)
            var bytes = try readFile(segment)
            let offset = bytes.count
            WALFormat.append(.entry(Entry(term: 1, index: 5)), to: &bytes)
            try writeFile(segment, bytes)
            guard case .corruptWAL(segment, offset, let reason)? = openingError(directory) else {
                Issue.record("a gap in the WAL went unnoticed")
                return
            }
            #expect(reason.contains("gap"))
        }
    }

    @Test func aWALThatNeedsAMissingSnapshotIsAnError() throws {
        try withTemporaryDirectory { directory in
            try withStorage(directory) { storage in
                try storage.append(makeEntries(1...10, term: 1))
                try storage.saveSnapshot(makeSnapshot(index: 6, term: 1))
            }
            let snapshotFile = try #require(try directory.snapshots().first)
            let segment = try #require(try directory.segments().last)
            let snapshotBytes = try readFile(snapshotFile)

            var damaged = snapshotBytes
            damaged[damaged.count - 2] ^= 1
            try writeFile(snapshotFile, damaged)
            guard case .missingSnapshot(6, segment, let detail)? = openingError(directory) else {
                Issue.record("a corrupt snapshot the WAL depends on went unnoticed")
                return
            }
            #expect(detail.contains(snapshotFile) && detail.contains("checksum mismatch"))

            try FileManager.default.removeItem(atPath: snapshotFile)
            guard case .missingSnapshot(6, segment, let missing)? = openingError(directory) else {
                Issue.record("a missing snapshot the WAL depends on went unnoticed")
                return
            }
            #expect(missing.contains("no usable snapshot"))

            try writeFile(snapshotFile, snapshotBytes)
            #expect(try recover(directory).snapshot == makeSnapshot(index: 6, term: 1))
        }
    }

    @Test func snapshotsWithoutAWALAreAnError() throws {
        try withTemporaryDirectory { directory in
            try withStorage(directory) { storage in
                try storage.append(makeEntries(1...10, term: 1))
                try storage.saveSnapshot(makeSnapshot(index: 6, term: 1))
            }
            for segment in try directory.segments() { try FileManager.default.removeItem(atPath: segment) }
            guard case .inconsistentWAL(directory.path, let reason)? = openingError(directory) else {
                Issue.record("a deleted WAL went unnoticed")
                return
            }
            #expect(reason.contains("hard state"))
        }
    }
}

extension RaftStorage.Options {
    func with(segmentBytes: Int) -> RaftStorage.Options {
        var copy = self
        copy.segmentBytes = segmentBytes
        return copy
    }
}
