import Consensus
@testable import RaftNode
import Synchronization
import Testing

/// The transport neither grows without bound toward a dead peer nor swallows
/// its failures: at most `maxInflightPerPeer` calls are outstanding, the rest are
/// dropped, and failed calls are reported as unreachable.
@Suite(.timeLimit(.minutes(1))) struct PeerTransportTests {
    @Test func aDeadPeerGetsBoundedCallsAndIsReportedUnreachable() async throws {
        let reports = Mutex<[NodeID]>([])
        var options = RaftNodeOptions()
        options.rpcTimeout = .seconds(2)
        let transport = PeerTransport(selfID: "n1", options: options, onUnreachable: { peer in
            reports.withLock { $0.append(peer) }
        }, onResponse: { _ in })
        defer { transport.close() }
        // Port 9 (discard) on loopback: nothing listens, connects are refused.
        let heartbeat = Message(from: "n1", to: "n2", term: 1, body: .appendEntries(AppendEntries(
            prevLogIndex: 0, prevLogTerm: 0, leaderCommit: 0)))
        for _ in 0..<500 { transport.send(heartbeat, address: "127.0.0.1:9") }
        #expect(transport.outstandingCalls(to: "n2") <= PeerTransport.maxInflightPerPeer)
        let end = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < end, reports.withLock({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(20)) }
        #expect(reports.withLock { $0.first } == "n2")
        while ContinuousClock.now < end, transport.outstandingCalls(to: "n2") > 0 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(transport.outstandingCalls(to: "n2") == 0, "finished calls must leave the count")
        #expect(reports.withLock { $0.count } <= PeerTransport.maxInflightPerPeer, "dropped messages are not calls")
    }
}
