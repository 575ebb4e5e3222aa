import Consensus
import Testing

/// `committedEntries(from:)`: pages of the committed log for readers (raft.v1 ReadEntries).
@Suite struct CommittedEntriesTests {
    @Test func pagesStopAtTheCommitAndRefuseCompactedIndexes() throws {
        let lab = Lab(seed: 70, nodes: 3) { $0.compactionThreshold = 8 }
        let sim = lab.sim
        let leader = try #require(sim.checkOneLeader())
        var last: UInt64 = 0
        for _ in 0..<20 { last = try #require(lab.one(expectedServers: 3)) }
        let follower = (leader + 1) % 3
        let core = try #require(sim.core(follower))
        #expect(core.snapshotIndex > 1, "compaction ran")
        #expect(core.committedEntries(from: core.snapshotIndex, maxCount: 10, maxBytes: 1 << 20) == nil)
        let page = try #require(core.committedEntries(from: core.snapshotIndex + 1, maxCount: 3, maxBytes: 1 << 20))
        #expect(page.map(\.index) == (0..<3).map { core.snapshotIndex + 1 + $0 })
        #expect(core.committedEntries(from: core.commitIndex + 1, maxCount: 3, maxBytes: 1 << 20) == [])
        let tail = try #require(core.committedEntries(from: core.commitIndex, maxCount: 100, maxBytes: 1 << 20))
        #expect(tail.map(\.index) == [core.commitIndex] && core.commitIndex >= last)
        // A byte limit below one entry still returns that entry.
        #expect(core.committedEntries(from: core.snapshotIndex + 1, maxCount: 100, maxBytes: 1)?.count == 1)
    }
}
