import Consensus
import Foundation
import Testing
@testable import RaftStorage

@Suite struct SegmentTests {
    @Test func aLogSpanningManySegmentsReplaysInOrder() throws {
        try withTemporaryDirectory { directory in
            let options = quiet.with(segmentBytes: 1024)
            try withStorage(directory, options: options) { storage in
                for start in stride(from: UInt64(1), through: 496, by: 5) {
                    try storage.append(makeEntries(start...(start + 4), term: 1, size: 50))
                    storage.setHardState(HardState(term: 1, votedFor: "n1", commit: start))
                    try storage.sync()
                }
            }
            let segments = try directory.segments()
            #expect(segments.count > 30)
            for segment in segments.dropLast() {
                #expect(try fileSize(segment) <= 1024, "\(segment) stays within the limit")
            }
            var state = try recover(directory, options: options)
            #expect(state.entries == makeEntries(1...500, term: 1, size: 50))
            #expect(state.hardState == HardState(term: 1, votedFor: "n1", commit: 496))

            // Overwrite from an index that lives in an early segment.
            try withStorage(directory, options: options) { storage in
                try storage.append(makeEntries(50...52, term: 2))
                try storage.sync()
            }
            state = try recover(directory, options: options)
            #expect(state.entries == makeEntries(1...49, term: 1, size: 50) + makeEntries(50...52, term: 2))
        }
    }

    /// A batch bigger than the segment limit still goes out as one write, into a fresh segment.
    @Test func aBatchLargerThanASegmentStartsOneNewSegment() throws {
        try withTemporaryDirectory { directory in
            try withStorage(directory, options: quiet.with(segmentBytes: 1024)) { storage in
                try storage.append(makeEntries(1...2, term: 1))
                try storage.sync()
                try storage.append(makeEntries(3...100, term: 1, size: 100))
                try storage.sync()
                #expect(storage.walStatistics == WALWriter.Statistics(writes: 2, syncs: 2, rotations: 1))
            }
            #expect(try directory.segments().count == 2)
            #expect(try recover(directory).entries == makeEntries(1...2, term: 1) + makeEntries(3...100, term: 1, size: 100))
        }
    }
}
