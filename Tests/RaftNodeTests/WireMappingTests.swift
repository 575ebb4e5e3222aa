import Consensus
import GossipWire
@testable import RaftNode
import Testing

/// The core's messages survive the trip through raft.v1 and back, and raft.v1
/// requests that cannot be Raft messages are refused with a reason.
@Suite struct WireMappingTests {
    let config = ClusterConfig(voters: ["n1", "n2"], learners: ["n3"],
                               addresses: ["n1": "127.0.0.1:1", "n2": "127.0.0.1:2", "n3": "[::1]:3"], removed: ["n0"])

    @Test func requestVoteRoundTrips() throws {
        let message = Message(from: "n2", to: "n1", term: 7, body: .requestVote(
            RequestVote(lastLogIndex: 40, lastLogTerm: 6, preVote: true, leadershipTransfer: true)))
        guard case .requestVote(let r) = message.body else { return }
        #expect(try WireMapping.message(WireMapping.requestVote(message, r), to: "n1") == message)
    }

    @Test func appendEntriesRoundTrips() throws {
        let entries = [Entry(term: 3, index: 11, kind: .normal, data: [1, 2]), Entry(term: 3, index: 12, kind: .configChange,
                                                                                    data: ConfigChange.promote("n3").encoded()),
                       Entry(term: 4, index: 13, kind: .noop)]
        let message = Message(from: "n1", to: "n2", term: 4, body: .appendEntries(
            AppendEntries(prevLogIndex: 10, prevLogTerm: 2, entries: entries, leaderCommit: 9, readRound: 5)))
        guard case .appendEntries(let r) = message.body else { return }
        let wire = WireMapping.appendEntries(message, r)
        let decoded = try RaftV1.AppendEntriesRequest(decoding: wire.encode())
        #expect(try WireMapping.message(decoded, to: "n2") == message)
    }

    @Test func responsesRoundTripAndAbsentAnswersAreIgnored() {
        let append = Message(from: "n2", to: "n1", term: 4, body: .appendEntriesResponse(AppendEntriesResponse(
            success: false, matchIndex: 0, rejectedIndex: 10, conflictIndex: 8, conflictTerm: 2, readRound: 3)))
        #expect(WireMapping.message(WireMapping.appendResponse(append), from: "n2", to: "n1") == append)
        let vote = Message(from: "n3", to: "n1", term: 9, body: .requestVoteResponse(RequestVoteResponse(granted: true, preVote: true)))
        #expect(WireMapping.message(WireMapping.voteResponse(vote), from: "n3", to: "n1") == vote)
        let snap = Message(from: "n2", to: "n1", term: 4, body: .installSnapshotResponse(InstallSnapshotResponse(matchIndex: 77)))
        #expect(WireMapping.message(WireMapping.snapshotResponse(snap), from: "n2", to: "n1") == snap)
        let read = Message(from: "n1", to: "n2", term: 4, body: .readIndexResponse(ReadIndexResponse(context: [9], index: 5)))
        #expect(WireMapping.message(WireMapping.readIndexResponse(read), from: "n1", to: "n2") == read)

        #expect(WireMapping.voteResponse(nil).ignored)
        #expect(WireMapping.message(WireMapping.appendResponse(nil), from: "n2", to: "n1") == nil)
        // A response of the wrong kind is no answer either.
        #expect(WireMapping.snapshotResponse(vote).ignored)
    }

    @Test(arguments: [0, 1, 5, 4096, 10_000])
    func snapshotsAreChunkedAndReassembled(size: Int) throws {
        let snapshot = Snapshot(metadata: SnapshotMetadata(lastIncludedIndex: 500, lastIncludedTerm: 7, config: config),
                                data: (0..<size).map { UInt8($0 % 253) })
        let message = Message(from: "n1", to: "n3", term: 8, body: .installSnapshot(InstallSnapshot(snapshot: snapshot)))
        let chunks = WireMapping.snapshotChunks(message, snapshot, chunkSize: 4096)
        #expect(chunks.count == max(1, (size + 4095) / 4096))
        #expect(chunks.filter { $0.config != nil }.count == 1)
        #expect(chunks.last?.done == true && chunks.dropLast().allSatisfy { !$0.done })
        let wire = try chunks.map { try RaftV1.InstallSnapshotRequest(decoding: $0.encode()) }
        #expect(try WireMapping.snapshotMessage(wire, to: "n3") == message)
    }

    @Test func malformedSnapshotStreamsAreRefused() {
        let snapshot = Snapshot(metadata: SnapshotMetadata(lastIncludedIndex: 5, lastIncludedTerm: 1, config: config),
                                data: Array(repeating: 1, count: 10))
        let message = Message(from: "n1", to: "n2", term: 2, body: .installSnapshot(InstallSnapshot(snapshot: snapshot)))
        var chunks = WireMapping.snapshotChunks(message, snapshot, chunkSize: 4)
        #expect(throws: RaftWireError.self) { try WireMapping.snapshotMessage([], to: "n2") }
        #expect(throws: RaftWireError.self) { try WireMapping.snapshotMessage(Array(chunks.dropLast()), to: "n2") }
        #expect(throws: RaftWireError.self) { try WireMapping.snapshotMessage([chunks[0], chunks[2]], to: "n2") }
        chunks[0].config = nil
        #expect(throws: RaftWireError.self) { try WireMapping.snapshotMessage(chunks, to: "n2") }
    }

    @Test func malformedRequestsAreRefused() {
        #expect(throws: RaftWireError.self) {
            try WireMapping.message(RaftV1.AppendEntriesRequest(term: 1, leaderId: "n1", prevLogIndex: 3,
                                                                entries: [RaftV1.Entry(term: 1, index: 5)]), to: "n2")
        }
        #expect(throws: RaftWireError.self) {
            try WireMapping.message(RaftV1.AppendEntriesRequest(term: 1, leaderId: "n1", prevLogIndex: 3,
                                                                entries: [RaftV1.Entry(term: 1, index: 4, type: .init(rawValue: 77))]), to: "n2")
        }
        #expect(throws: RaftWireError.self) { try WireMapping.message(RaftV1.AppendEntriesRequest(term: 1), to: "n2") }
        #expect(throws: RaftWireError.self) { try WireMapping.message(RaftV1.RequestVoteRequest(term: 1), to: "n2") }
        #expect(throws: RaftWireError.self) { try WireMapping.message(RaftV1.ReadIndexRequest(term: 1), to: "n2") }
        #expect(throws: RaftWireError.self) { try WireMapping.config(RaftV1.ClusterConfig(members: [RaftV1.Member()])) }
    }

    @Test func configRoundTrips() throws {
        #expect(try WireMapping.config(WireMapping.config(config)) == config)
    }

    @Test func peerAddressesParse() {
        #expect(PeerAddress("127.0.0.1:7000") == PeerAddress(host: "127.0.0.1", port: 7000))
        #expect(PeerAddress("[::1]:7000")?.host == "::1")
        #expect(PeerAddress("[::1]:7000")?.description == "[::1]:7000")
        for bad in ["", "host", "host:", ":80", "h:0", "h:65536", "h:x", "[::1]7000"] { #expect(PeerAddress(bad) == nil, "\(bad)") }
    }
}

@Suite struct RecordLogTests {
    @Test func snapshotRestoresTheSameState() throws {
        var log = RecordLog(keepRecent: 3)
        for i in 0..<10 { log.apply(Array("round \(i)".utf8), index: UInt64(i + 2)) }
        var copy = RecordLog(keepRecent: 3)
        try copy.restore(log.snapshot())
        #expect(copy == log)
        #expect(copy.recent.map { String(decoding: $0, as: UTF8.self) } == ["round 7", "round 8", "round 9"])
        #expect(copy.count == 10)
    }

    @Test func digestsTellHistoriesApart() {
        var a = RecordLog(), b = RecordLog()
        a.apply([1, 2], index: 1)
        a.apply([3], index: 2)
        b.apply([1], index: 1)
        b.apply([2, 3], index: 2)
        #expect(a.digest != b.digest)
    }

    @Test func malformedSnapshotsAreRefusedAndChangeNothing() throws {
        var log = RecordLog()
        log.apply([1], index: 1)
        let before = log
        let good = log.snapshot()
        for bad in [Array(good.dropLast()), good + [0], [UInt8](repeating: 0xFF, count: 24), [1, 2, 3]] {
            #expect(throws: SnapshotFormatError.self) { try log.restore(bad) }
            #expect(log == before)
        }
    }
}
