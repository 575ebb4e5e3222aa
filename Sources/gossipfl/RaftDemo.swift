import Foundation
import Gateway
import GossipRPC
import GossipWire
import RaftNode

/// The Raft story with real processes on loopback: three `gossipfl peer`
/// processes find each other through a gateway (the first bootstraps, the
/// others join through the leader hint), commit entries, survive a kill -9 of
/// the leader and of the gateway, and the killed leader catches up on restart.
/// Everything runs with mutual TLS on certificates made by `gossipfl certs`.
enum RaftDemo {
    static func run() async throws -> Int {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("gossipfl-raft-demo-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let certs = root + "/certs"
        try makeCertificates(in: certs, nodes: ["p1", "p2", "p3"])
        let gatewayTLS = ClusterTLS(certificateFile: certs + "/gateway.pem", privateKeyFile: certs + "/gateway-key.pem",
                                    caFile: certs + "/ca.pem")
        let gateway = try GatewayServer(config: GatewayConfig(port: 0, dataDirectory: root + "/gateway", tls: gatewayTLS))
        try gateway.start()
        print("[raft] gateway on 127.0.0.1:\(gateway.port) (mutual TLS)")
        var failures = 0
        func check(_ condition: Bool, _ what: String) {
            print("[raft] \(condition ? "PASS" : "FAIL") \(what)")
            if !condition { failures += 1 }
        }

        var peers: [String: PeerProcess] = [:]
        defer { for peer in peers.values { peer.kill() } }
        for id in ["p1", "p2", "p3"] {
            let peer = try PeerProcess(id: id, root: root, gatewayPort: gateway.port)
            peers[id] = peer
            let how = try await peer.waitReady()
            print("[raft] \(id) on \(peer.address): \(how)")
        }
        check(peers["p1"]?.how == "bootstrapped" && peers["p2"]?.how == "joined" && peers["p3"]?.how == "joined",
              "p1 bootstraps (told by the gateway), p2 and p3 join through the leader hint")
        guard let leader = await waitLeader(Array(peers.values), voters: 3) else {
            check(false, "a leader with 3 voters")
            await gateway.shutdown()
            return failures
        }
        check(true, "\(leader.id) leads a cluster of 3 voters")
        for round in 1...5 { _ = try? await propose("round \(round): matching+mask seed", via: Array(peers.values)) }
        let committed = (try? await leader.status())?.commitIndex ?? 0
        print("[raft] 5 round decisions committed; commit index \(committed)")

        await gateway.shutdown()
        print("[raft] gateway stopped")
        let killedAt = ContinuousClock.now
        leader.kill()
        print("[raft] kill -9 \(leader.id) (the leader)")
        let survivors = peers.values.filter { $0 !== leader }
        var newLeader: PeerProcess?
        while ContinuousClock.now - killedAt < .seconds(10), newLeader == nil {
            for peer in survivors {
                if let s = try? await peer.status(timeout: .milliseconds(200)), s.role == "leader", s.commitIndex > committed {
                    newLeader = peer
                }
            }
            if newLeader == nil { try await Task.sleep(for: .milliseconds(10)) }
        }
        let failover = ContinuousClock.now - killedAt
        check(newLeader != nil, "a new leader (\(newLeader?.id ?? "none")) committed \(milliseconds(failover)) ms after the kill")
        let after = try? await propose("round 6: after failover, gateway down", via: survivors)
        check(after != nil, "the cluster keeps committing with the gateway and the old leader gone")

        let restarted = try PeerProcess(id: leader.id, root: root, gatewayPort: gateway.port, port: leader.port)
        peers[leader.id] = restarted
        let how = try await restarted.waitReady()
        var caughtUp = false
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline, !caughtUp {
            if let s = try? await restarted.status(), let after, s.appliedIndex >= after.index { caughtUp = true }
            else { try await Task.sleep(for: .milliseconds(20)) }
        }
        check(how == "resumed" && caughtUp, "\(leader.id) restarts from its WAL (\(how)) and catches up as a follower")
        print("[raft] \(failures == 0 ? "all checks passed" : "\(failures) checks failed")")
        return failures
    }

    /// The cluster CA and certificates, through this executable's own `gossipfl certs`.
    static func makeCertificates(in directory: String, nodes: [String]) throws {
        var commands = [["certs", "init", "--dir", directory], ["certs", "gateway", "--dir", directory],
                        ["certs", "admin", "--dir", directory, "--name", "demo"]]
        commands += nodes.map { ["certs", "node", "--dir", directory, "--id", $0] }
        for arguments in commands {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
            process.arguments = arguments
            process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw RPCError(.internal, "gossipfl \(arguments.joined(separator: " ")) failed") }
        }
        print("[raft] certificates: gossipfl certs init/gateway/admin/node --dir \(directory) (CA, gateway, admin, \(nodes.joined(separator: ", ")))")
    }

    static func waitLeader(_ peers: [PeerProcess], voters: Int) async -> PeerProcess? {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            for peer in peers {
                if let s = try? await peer.status(), s.role == "leader", s.members.filter(\.voter).count == voters { return peer }
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    static func propose(_ text: String, via peers: [PeerProcess]) async throws -> RaftV1.ProposeResponse {
        for _ in 0..<50 {
            for peer in peers {
                if let reply = try? await peer.call(RaftMethods.propose, RaftV1.ProposeRequest(data: Array(text.utf8))),
                   reply.committed { return reply }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw RPCError(.unavailable, "no leader committed \"\(text)\"")
    }

    static func milliseconds(_ d: Duration) -> Int { Int(d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000) }
}

/// One `gossipfl peer` child process (this same executable).
final class PeerProcess: @unchecked Sendable {
    // Used from the demo's single task only.
    let id: String
    /// Known once the peer printed its ready line.
    private(set) var port = 0
    let process = Process()
    private let output = Pipe()
    private(set) var how: String?
    var address: String { "127.0.0.1:\(port)" }

    /// `port`: 0 lets the system pick; the address is part of the membership, so a restarted
    /// peer passes the one it had.
    private let adminTLS: ClusterTLS

    init(id: String, root: String, gatewayPort: Int, port: Int = 0) throws {
        self.id = id
        let certs = root + "/certs"
        adminTLS = ClusterTLS(certificateFile: certs + "/demo.pem", privateKeyFile: certs + "/demo-key.pem", caFile: certs + "/ca.pem")
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        process.arguments = ["peer", "--id", id, "--listen", "127.0.0.1:\(port)", "--data-dir", root + "/" + id,
                             "--gateway", "127.0.0.1:\(gatewayPort)", "--tick-ms", "20",
                             "--tls-cert", "\(certs)/\(id).pem", "--tls-key", "\(certs)/\(id)-key.pem", "--tls-ca", "\(certs)/ca.pem"]
        process.standardOutput = output
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
    }

    /// Waits for the ready line (`listening on HOST:PORT`); returns how the peer started.
    func waitReady() async throws -> String {
        var text = ""
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty, !process.isRunning { break }
            text += String(decoding: data, as: UTF8.self)
            let lines = text.split(separator: "\n")
            if let ready = lines.first(where: { $0.hasPrefix("listening on ") }),
               let address = PeerAddress(String(ready.dropFirst("listening on ".count))) {
                port = address.port
                how = lines.first { $0.hasPrefix("raft peer") }.map { String($0.split(separator: " ").last!) }
                return how ?? "unknown"
            }
        }
        throw RPCError(.unavailable, "peer \(id) did not become ready: \(text)")
    }

    func call<Request, Response>(_ method: MethodDescriptor<Request, Response>, _ request: Request,
                                 timeout: Duration = .seconds(2)) async throws -> Response {
        // As the operator: the admin certificate, and the server must prove it is node `id`.
        let channel = try Channel(host: "127.0.0.1", port: port, config: ChannelConfig(tls: adminTLS.client(expecting: .node(id))))
        defer { Task { await channel.close() } }
        return try await channel.unary(method, request, options: CallOptions(timeout: timeout))
    }

    func status(timeout: Duration = .seconds(2)) async throws -> RaftV1.StatusResponse {
        try await call(RaftMethods.status, RaftV1.StatusRequest(), timeout: timeout)
    }

    func kill() {
        if process.isRunning {
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}
