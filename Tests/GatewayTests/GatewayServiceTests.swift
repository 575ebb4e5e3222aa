import Discovery
import Foundation
import Gateway
import GossipRPC
import GossipWire
import Testing

@Suite(.timeLimit(.minutes(1)))
struct GatewayServiceTests {
    @Test func concurrentFirstRegistrationsBootstrapExactlyOnce() async throws {
        try await withGateway { gateway, _ in
            let channels = try (0..<32).map { _ in try Channel(host: "127.0.0.1", port: gateway.port) }
            let responses = try await withThrowingTaskGroup(of: (String, G.RegisterResponse).self) { group in
                for (i, channel) in channels.enumerated() {
                    group.addTask {
                        ("n\(i)", try await channel.unary(Methods.register, registration("n\(i)", port: UInt32(9000 + i))))
                    }
                }
                var all: [(String, G.RegisterResponse)] = []
                for try await response in group { all.append(response) }
                return all
            }
            for channel in channels { await channel.close() }
            let bootstrappers = responses.filter { $0.1.bootstrap }
            #expect(bootstrappers.count == 1)
            let first = try #require(bootstrappers.first?.0)
            #expect(responses.allSatisfy { $0.1.leader?.nodeId == first })
            #expect(Set(responses.map(\.1.clusterId)).count == 1)
        }
    }

    @Test func invalidRequestsAreInvalidArgumentAndChangeNothing() async throws {
        try await withGateway { _, channel in
            _ = try await channel.unary(Methods.register, registration("good"))
            let before = try await channel.unary(Methods.listPeers, G.ListPeersRequest())
            let bad: [(String, G.RegisterRequest)] = [
                ("node_id is empty", registration("")),
                ("bytes; the limit is 128", registration(String(repeating: "x", count: 129))),
                ("may only contain", registration("no spaces")),
                ("address is missing", G.RegisterRequest(nodeId: "n")),
                ("not a host name", G.RegisterRequest(nodeId: "n", address: G.NodeAddress(host: "bad host!", port: 1))),
                ("port 0", G.RegisterRequest(nodeId: "n", address: G.NodeAddress(host: "127.0.0.1", port: 0))),
                ("port 70000", G.RegisterRequest(nodeId: "n", address: G.NodeAddress(host: "127.0.0.1", port: 70000))),
            ]
            for (expected, request) in bad {
                let error = await expectRPCError(.invalidArgument) { _ = try await channel.unary(Methods.register, request) }
                #expect(error?.message.contains(expected) == true, "\(String(describing: error)) should mention \(expected)")
            }
            // Field 99 appended to a valid request.
            let withUnknown = registration("sneaky").encode() + [0x98, 0x06, 0x01]
            let error = await expectRPCError(.invalidArgument) { _ = try await channel.unary(Methods.rawRegister, RawBytes(withUnknown)) }
            #expect(error?.message.contains("99") == true)
            let after = try await channel.unary(Methods.listPeers, G.ListPeersRequest())
            #expect(after.peers.map(\.nodeId) == before.peers.map(\.nodeId))
            #expect(after.registryVersion == before.registryVersion)
        }
    }

    @Test func leasesExpireWithoutHeartbeats() async throws {
        let clock = ManualClock()
        try await withGateway(lease: 10, clock: clock) { gateway, channel in
            _ = try await channel.unary(Methods.register, registration("a"))
            _ = try await channel.unary(Methods.register, registration("b"))
            clock.advance(8)
            let check1 = try await channel.unary(Methods.heartbeat, G.HeartbeatRequest(nodeId: "a")).known
            #expect(check1)
            clock.advance(4)
            let peers = try await channel.unary(Methods.listPeers, G.ListPeersRequest()).peers
            #expect(peers.map(\.nodeId) == ["a"])
            #expect(peers[0].ageSeconds == 4)
            let check2 = try await channel.unary(Methods.heartbeat, G.HeartbeatRequest(nodeId: "b")).known == false
            #expect(check2)
        }
    }

    @Test func reportsOrderByTermThenTime() async throws {
        try await withGateway { _, channel in
            _ = try await channel.unary(Methods.register, registration("a"))
            func report(_ leader: String, term: UInt64, at: Double) -> G.ReportMembershipRequest {
                G.ReportMembershipRequest(reporterId: "a", leaderId: leader, term: term,
                                          members: [G.NodeEntry(nodeId: "a", address: G.NodeAddress(host: "127.0.0.1", port: 9000))],
                                          reportedAtUnix: at)
            }
            let check3 = try await channel.unary(Methods.report, report("a", term: 2, at: 10)).accepted
            #expect(check3)
            let stale = try await channel.unary(Methods.report, report("a", term: 1, at: 99))
            #expect(!stale.accepted)
            #expect(stale.reason.contains("not newer"))
            let check4 = try await channel.unary(Methods.report, report("a", term: 2, at: 11)).accepted
            #expect(check4)
        }
    }

    @Test func compatAndV1ShareTheRegistry() async throws {
        try await withGateway { _, channel in
            let first = try await channel.unary(Methods.compatRegister,
                                                C.RegisterNodeRequest(nodeId: 7, ipAddress: "127.0.0.1", port: 8001))
            #expect(first.status == "registered")
            #expect(first.isBootstrap)
            let again = try await channel.unary(Methods.compatRegister,
                                                C.RegisterNodeRequest(nodeId: 7, ipAddress: "127.0.0.1", port: 8001))
            #expect(again.status == "updated")
            #expect(!again.isBootstrap)
            _ = try await channel.unary(Methods.register, registration("8"))
            _ = try await channel.unary(Methods.register, registration("named-node"))
            let nodes = try await channel.unary(Methods.compatGetNodes, C.GetNodesRequest(requestingNodeId: 7))
            #expect(nodes.nodes.map(\.nodeId) == [8])
            let stats = try await channel.unary(Methods.compatStats, C.GetStatsRequest())
            #expect(stats.totalNodes == 3)
            #expect(stats.leaderId == 7)
            #expect(stats.bootstrapInitiated)
            await expectRPCError(.invalidArgument) {
                _ = try await channel.unary(Methods.compatRegister, C.RegisterNodeRequest(nodeId: 0, ipAddress: "127.0.0.1", port: 1))
            }
        }
    }
}

@Suite(.timeLimit(.minutes(1)))
struct GatewayPersistenceTests {
    @Test func restartServesTheSnapshotAsStaleUntilNodesReport() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await withGateway(dataDirectory: directory) { _, channel in
            for id in ["a", "b", "c"] { _ = try await channel.unary(Methods.register, registration(id)) }
        }
        try await withGateway(dataDirectory: directory) { _, channel in
            let restored = try await channel.unary(Methods.listPeers, G.ListPeersRequest()).peers
            #expect(restored.map(\.nodeId) == ["a", "b", "c"])
            #expect(restored.allSatisfy { $0.stale })
            let check5 = try await channel.unary(Methods.heartbeat, G.HeartbeatRequest(nodeId: "b")).known
            #expect(check5)
            let after = try await channel.unary(Methods.listPeers, G.ListPeersRequest()).peers
            #expect(after.map(\.stale) == [true, false, true])
            let newcomer = try await channel.unary(Methods.register, registration("d"))
            #expect(!newcomer.bootstrap)
            #expect(newcomer.leader?.nodeId == "a")
        }
    }

    @Test func corruptSnapshotStartsEmptyAndIsKeptAside() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: directory + "/registry.json"))
        try await withGateway(dataDirectory: directory) { _, channel in
            let check6 = try await channel.unary(Methods.listPeers, G.ListPeersRequest()).peers.isEmpty
            #expect(check6)
            let check7 = try await channel.unary(Methods.register, registration("a")).bootstrap
            #expect(check7)
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(files.contains { $0.hasPrefix("registry.json.corrupt-") })
        #expect(files.contains("registry.json"))
    }

    @Test func unwritableDataDirectoryAnswersUnavailableAndKeepsServingReads() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let blocker = directory + "/not-a-directory"
        try Data("x".utf8).write(to: URL(fileURLWithPath: blocker))
        try await withGateway(dataDirectory: blocker + "/data") { _, channel in
            let error = await expectRPCError(.unavailable) { _ = try await channel.unary(Methods.register, registration("a")) }
            #expect(error?.message.contains("not acknowledged") == true, "\(String(describing: error))")
            #expect(error?.message.contains("Not a directory") == true, "\(String(describing: error))")
            // Reads are still served (from memory).
            let peers = try await channel.unary(Methods.listPeers, G.ListPeersRequest()).peers
            #expect(peers.map(\.nodeId) == ["a"])
        }
    }
}
