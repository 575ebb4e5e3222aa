import Consensus
import Testing
@testable import RaftStorage

@Suite struct LargeBatchTests {
    /// 10,000 entries of 1 KiB: one write and one fdatasync, and all of it back after reopening.
    @Test func tenThousandEntriesAreSyncedWithOneWriteAndOneFsync() throws {
        try withTemporaryDirectory { directory in
            let entries = makeEntries(1...10_000, term: 3, size: 1024)
            try withStorage(directory) { storage in
                let before = storage.walStatistics
                try storage.append(entries)
                storage.setHardState(HardState(term: 3, votedFor: "n1", commit: 9_000))
                #expect(storage.walStatistics == before, "nothing is written before sync")
                try storage.sync()
                #expect(storage.walStatistics.writes == before.writes + 1)
                #expect(storage.walStatistics.syncs == before.syncs + 1)
                try storage.sync()
                #expect(storage.walStatistics.syncs == before.syncs + 1, "a sync with nothing pending does nothing")
            }
            let state = try recover(directory)
            #expect(state.entries.count == entries.count)
            #expect(state.entries == entries)
            #expect(state.hardState.commit == 9_000)
        }
    }
}
