import Consensus
import Foundation
import Testing
@testable import RaftStorage

/// A crash during a write leaves the last record of the newest segment partial; recovery cuts
/// it off and keeps everything before it.
@Suite struct TornTailTests {
    enum LastRecord: String, CaseIterable, Sendable {
        case entry, hardState
    }

    /// Cuts the newest segment at every length from "last record entirely missing" to "one byte
    /// short", reopens, and expects exactly the records before it.
    @Test(arguments: LastRecord.allCases)
    func everyCutOfTheLastRecordRecoversThePreviousRecords(last: LastRecord) throws {
        try withTemporaryDirectory { directory in
            let (before, after) = try withStorage(directory) { storage in
                try storage.append(makeEntries(1...3, term: 1))
                storage.setHardState(HardState(term: 1, votedFor: "n1", commit: 2))
                try storage.sync()
                let before = storage.persistentState
                switch last {
                case .entry: try storage.append(makeEntries(4...4, term: 1, size: 40))
                case .hardState: storage.setHardState(HardState(term: 2, votedFor: "n3", commit: 3))
                }
                try storage.sync()
                return (before, storage.persistentState)
            }
            let segment = try #require(try directory.segments().last)
            let complete = try readFile(segment)
            #expect(try recover(directory) == after)
            let lastRecordStart = try recordOffsets(complete).last!

            for cut in lastRecordStart..<complete.count {
                try writeFile(segment, Array(complete[..<cut]))
                let lines = LogLines()
                #expect(try recover(directory, options: lines.options) == before, "cut at \(cut)")
                #expect(try fileSize(segment) == lastRecordStart, "torn bytes are removed, cut at \(cut)")
                if cut > lastRecordStart {
                    #expect(lines.all.contains { $0.contains("torn tail") && $0.contains("offset \(lastRecordStart)") },
                            "recovery says what it dropped, cut at \(cut)")
                }
            }

            // The log goes on from the recovered state.
            try withStorage(directory) { storage in
                try storage.append(makeEntries(4...5, term: 2))
                try storage.sync()
            }
            #expect(try recover(directory).entries == makeEntries(1...3, term: 1) + makeEntries(4...5, term: 2))
        }
    }

    /// Some file systems show zeros where a crash lost data past the last sync.
    @Test func zerosAfterTheLastRecordAreATornTail() throws {
        try withTemporaryDirectory { directory in
            let written = try withStorage(directory) { storage in
                try storage.append(makeEntries(1...3, term: 1))
                try storage.sync()
                return storage.persistentState
            }
            let segment = try #require(try directory.segments().last)
            let complete = try readFile(segment)
            try writeFile(segment, complete + [UInt8](repeating: 0, count: 4096))
            #expect(try recover(directory) == written)
            #expect(try fileSize(segment) == complete.count)
        }
    }

    /// A crash while starting a new segment leaves it empty or with a partial header; it held
    /// nothing synced, so it goes and the previous segment continues.
    @Test(arguments: [0, 1, 11, 20])
    func aCutShortNewSegmentIsDeleted(length: Int) throws {
        try withTemporaryDirectory { directory in
            let written = try withStorage(directory) { storage in
                try storage.append(makeEntries(1...3, term: 1))
                try storage.sync()
                return storage.persistentState
            }
            var header: [UInt8] = []
            WALFormat.append(.segmentHeader(SegmentHeader(kind: .continuation, sequence: 2, baseIndex: 0, baseTerm: 0)), to: &header)
            let newSegment = directory.file("wal-0000000000000002.log")
            try writeFile(newSegment, Array(header[..<length]))
            #expect(try recover(directory) == written)
            #expect(!FileManager.default.fileExists(atPath: newSegment))
        }
    }

    @Test func halfWrittenTemporaryFilesAreDeleted() throws {
        try withTemporaryDirectory { directory in
            let written = try withStorage(directory) { storage in
                try storage.append(makeEntries(1...3, term: 1))
                try storage.sync()
                return storage.persistentState
            }
            let leftovers = [directory.file("wal-0000000000000002.log.tmp"),
                             directory.file("snapshot-0000000000000002-0000000000000001.snap.tmp")]
            for path in leftovers { try writeFile(path, [1, 2, 3]) }
            #expect(try recover(directory) == written)
            for path in leftovers { #expect(!FileManager.default.fileExists(atPath: path)) }
        }
    }
}

/// Start offsets of the records in a segment.
func recordOffsets(_ bytes: [UInt8]) throws -> [Int] {
    let scan = try WALReader.scan(bytes, file: "test")
    #expect(scan.damage == nil)
    return scan.records.map(\.offset)
}
