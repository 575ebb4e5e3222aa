import Consensus
import Testing

/// AppendEntries carry at most `maxBytesPerMessage` of entry data (etcd's
/// MaxSizePerMsg), or a single entry when one alone is larger, so no burst of
/// large proposals becomes one message too big to replicate within an election timeout.
@Suite struct MessageSizeTests {
    @Test func appendEntriesStayWithinTheByteLimit() throws {
        let limit = 1000
        let lab = Lab(seed: 50, nodes: 3) { $0.maxBytesPerMessage = limit }
        let sim = lab.sim
        var largest = 0, multiEntry = 0
        sim.messageObserver = { message in
            guard case .appendEntries(let r) = message.body, !r.entries.isEmpty else { return }
            let bytes = r.entries.reduce(0) { $0 + $1.data.count }
            if r.entries.count > 1 {
                multiEntry += 1
                #expect(bytes <= limit, "\(r.entries.count) entries, \(bytes) bytes")
            }
            largest = max(largest, bytes)
        }
        let leader = try #require(sim.checkOneLeader())
        // 32 proposals at once: 300 B each (three fit a message) and two of 2,500 B (alone in theirs).
        var last: UInt64 = 0
        for i in 0..<32 {
            let size = i % 16 == 5 ? 2500 : 300
            last = try sim.input(leader) { core throws(RaftError) in
                try core.propose(SimStateMachine.bytes(lab.nextValue()) + Array(repeating: 0, count: size - 8))
            }.index
        }
        sim.run(ticks: 50)
        #expect((0..<3).allSatisfy { (sim.appliedIndex($0) ?? 0) >= last }, "\(sim.summary)")
        #expect(multiEntry > 0, "batching still happens below the limit")
        #expect(largest == 2500, "an entry larger than the limit travels alone")
        #expect(sim.violations == [])
    }
}
