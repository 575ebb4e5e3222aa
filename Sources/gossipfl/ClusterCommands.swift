import ArgumentParser
import Foundation
import GossipRPC
import GossipWire
import RaftNode

/// `gossipfl raft-status`: a peer's Raft view as one JSON line.
struct RaftStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "raft-status", abstract: "Print a Raft peer's status as JSON.")

    @Option(help: "The peer (HOST:PORT).") var peer: HostPort
    @Flag(help: "Confirm leadership with a quorum first (ReadIndex).") var linearizable = false
    @OptionGroup var tls: TLSOptions

    func run() async throws {
        let channel = try Channel(host: peer.host, port: peer.port, config: ChannelConfig(tls: tls.cluster?.client(expectingRole: .node)))
        defer { Task { await channel.close() } }
        let s = try await channel.unary(RaftMethods.status, RaftV1.StatusRequest(linearizable: linearizable),
                                        options: CallOptions(timeout: .seconds(5)))
        let object: [String: Any] = [
            "node_id": s.nodeId, "role": s.role, "term": s.term, "leader_id": s.leaderId, "leader_address": s.leaderAddress,
            "commit_index": s.commitIndex, "applied_index": s.appliedIndex, "last_index": s.lastIndex,
            "snapshot_index": s.snapshotIndex,
            "members": s.members.map { ["node_id": $0.nodeId, "address": $0.address, "voter": $0.voter] },
        ]
        var data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        data.append(UInt8(ascii: "\n"))
        FileHandle.standardOutput.write(data)
    }
}

/// `gossipfl propose`: appends data through the leader (following one redirect).
struct ProposeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "propose", abstract: "Propose an entry through a Raft peer.")

    @Option(help: "Any peer (HOST:PORT).") var peer: HostPort
    @Option(help: "The entry's data (UTF-8).") var data: String
    @OptionGroup var tls: TLSOptions

    func run() async throws {
        var target = peer.description
        for _ in 0..<3 {
            guard let address = PeerAddress(target) else { break }
            let channel = try Channel(host: address.host, port: address.port,
                                      config: ChannelConfig(tls: tls.cluster?.client(expectingRole: .node)))
            let reply = try await channel.unary(RaftMethods.propose, RaftV1.ProposeRequest(data: Array(data.utf8)),
                                                options: CallOptions(timeout: .seconds(5)))
            await channel.close()
            if reply.committed {
                print("committed at index \(reply.index), term \(reply.term)")
                return
            }
            guard !reply.leaderAddress.isEmpty else { break }
            target = reply.leaderAddress
        }
        throw ValidationError("no leader accepted the proposal")
    }
}
