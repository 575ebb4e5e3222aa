import Consensus
import Foundation
import GossipRPC
import GossipWire
@testable import RaftNode
import Glibc
@testable import RaftStorage
import Synchronization
import Testing

/// Real nodes in one process: gRPC over loopback, WAL with fsync in temporary directories.
@Suite(.timeLimit(.minutes(1))) struct InProcessClusterTests {
    static let options = RaftNodeOptions(tickInterval: .milliseconds(10), electionTicks: 10, heartbeatTicks: 2,
                                         compactionThreshold: 16)

    final class Cluster: Sendable {
        let root: String
        let peers: Mutex<[RaftPeer<RecordLog>]> = Mutex([])

        init() throws {
            root = NSTemporaryDirectory() + "raftnode-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        }

        func start(_ id: String, _ mode: RaftPeer<RecordLog>.Start) async throws -> RaftPeer<RecordLog> {
            let peer = try await RaftPeer.start(id: id, host: "127.0.0.1", port: 0, dataDirectory: root + "/" + id,
                                                machine: RecordLog(), options: InProcessClusterTests.options,
                                                joinDeadline: .seconds(20)) { _, _ in mode }
            peers.withLock { $0.append(peer) }
            return peer
        }

        func close() async {
            for peer in peers.withLock({ $0 }) { await peer.shutdown() }
            try? FileManager.default.removeItem(atPath: root)
        }
    }

    /// Polls `condition` every 10 ms for up to `seconds`.
    static func eventually(_ seconds: Double = 10, _ condition: () async -> Bool) async -> Bool {
        let end = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < end {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return await condition()
    }

    @Test func bootstrapJoinReplicateAndAgree() async throws {
        let cluster = try Cluster()
        let first = try await cluster.start("a", .bootstrap)
        #expect(await Self.eventually { await first.node.softState.role == .leader })
        let second = try await cluster.start("b", .join([first.address]))
        let third = try await cluster.start("c", .join([second.address]))  // through a follower: redirected
        #expect(await Self.eventually { await first.node.clusterConfig.voters == ["a", "b", "c"] })

        var positions: [LogPosition] = []
        for i in 0..<10 {
            guard case .success(let position) = await first.node.propose(Array("round \(i)".utf8)) else {
                Issue.record("proposal \(i) failed")
                break
            }
            positions.append(position)
        }
        #expect(positions.map(\.index) == positions.map(\.index).sorted())
        let leaderLog = await first.node.machine
        #expect(leaderLog.count == 10)
        for peer in [second, third] {
            #expect(await Self.eventually { await peer.node.machine == leaderLog }, "\(peer.node.id) diverged")
        }
        // A follower refuses proposals and names the leader with its address.
        guard case .failure(.notLeader(let id, let address)) = await second.node.propose([1]) else {
            Issue.record("a follower accepted a proposal")
            return
        }
        #expect(id == "a" && address == first.address)
        await cluster.close()
    }

    @Test func aJoinerBehindACompactedLogGetsTheSnapshotOverTheWire() async throws {
        let cluster = try Cluster()
        let first = try await cluster.start("a", .bootstrap)
        #expect(await Self.eventually { await first.node.softState.role == .leader })
        _ = try await cluster.start("b", .join([first.address]))
        for i in 0..<60 { _ = await first.node.propose(Array(repeating: UInt8(i), count: 300)) }
        #expect(await first.node.status.snapshotIndex > 16, "the leader compacted its log")

        let late = try await cluster.start("c", .join([first.address]))
        let leaderLog = await first.node.machine
        #expect(await Self.eventually { await late.node.machine == leaderLog })
        #expect(await late.node.status.snapshotIndex > 1, "the joiner started from a shipped snapshot")
        #expect(await late.node.machine.count == 60)
        await cluster.close()
    }

    @Test func linearizableReadsOnLeaderAndFollower() async throws {
        let cluster = try Cluster()
        let first = try await cluster.start("a", .bootstrap)
        #expect(await Self.eventually { await first.node.softState.role == .leader })
        let second = try await cluster.start("b", .join([first.address]))
        guard case .success(let written) = await first.node.propose([42]) else {
            Issue.record("proposal failed")
            return
        }
        for node in [first.node, second.node] {
            guard case .success(let index) = await node.linearizableRead() else {
                Issue.record("read on \(node.id) failed")
                continue
            }
            #expect(index >= written.index)
            #expect(await node.status.applied >= written.index)
        }
        await cluster.close()
    }

    @Test func rawClientsSeeRedirectsAndStatusOverGRPC() async throws {
        let cluster = try Cluster()
        let first = try await cluster.start("a", .bootstrap)
        #expect(await Self.eventually { await first.node.softState.role == .leader })
        let second = try await cluster.start("b", .join([first.address]))
        let address = try #require(PeerAddress(second.address))
        let channel = try Channel(host: address.host, port: address.port)
        let reply = try await channel.unary(RaftMethods.propose, RaftV1.ProposeRequest(data: [1]),
                                            options: CallOptions(timeout: .seconds(5)))
        #expect(!reply.committed && reply.leaderId == "a" && reply.leaderAddress == first.address)
        let status = try await channel.unary(RaftMethods.status, RaftV1.StatusRequest(linearizable: true),
                                             options: CallOptions(timeout: .seconds(5)))
        #expect(status.nodeId == "b" && status.role == "follower" && status.leaderId == "a")
        #expect(Set(status.members.map(\.nodeId)) == ["a", "b"])
        await #expect(throws: RPCError.self) {
            _ = try await channel.unary(RaftMethods.join, RaftV1.JoinRequest(nodeId: "", address: "x:1"),
                                        options: CallOptions(timeout: .seconds(5)))
        }
        await channel.close()
        await cluster.close()
    }

    @Test func aFailedWriteStopsTheNodeInsteadOfAcknowledging() async throws {
        let cluster = try Cluster()
        let only = try await cluster.start("a", .bootstrap)
        #expect(await Self.eventually { await only.node.softState.role == .leader })
        guard case .success = await only.node.propose([1]) else {
            Issue.record("the first proposal failed")
            return
        }
        let reported = Mutex<RaftNodeError?>(nil)
        await only.node.observeFailure { error in reported.withLock { $0 = error } }
        // Swap the WAL's descriptor for a read-only one: the next write fails.
        let readOnly = open("/dev/null", O_RDONLY)
        #expect(dup2(readOnly, only.node.storage.walDescriptor) >= 0)
        close(readOnly)

        guard case .failure(.storageFailed(let why)) = await only.node.propose([2]) else {
            Issue.record("a proposal was acknowledged although its write failed")
            return
        }
        #expect(why.contains("write"))
        #expect(reported.withLock { $0 } != nil, "the owner is told, so the process can exit")
        guard case .failure(.storageFailed) = await only.node.propose([3]) else {
            Issue.record("the node kept accepting proposals after a failed write")
            return
        }
        #expect(await only.node.machine.count == 1)
        await cluster.close()
    }
}
