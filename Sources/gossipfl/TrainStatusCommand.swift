import ArgumentParser
import Foundation
import GossipRPC
import GossipWire
import TrainingNode

/// `gossipfl train-status`: training peers' own view (gossip.v1 Status), one JSON line each.
struct TrainStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-status",
        abstract: "Print training peers' status, one JSON line per --peer (an `error` line for one that does not answer).")

    @Option(help: "A training peer (HOST:PORT); repeat for several.") var peer: [HostPort]
    @Option(name: .customLong("timeout-ms"), help: "Give up on a peer after this long.") var timeoutMs = 2000
    @OptionGroup var tls: TLSOptions

    func validate() throws {
        guard !peer.isEmpty else { throw ValidationError("give at least one --peer") }
    }

    func run() async throws {
        var failed = false
        for target in peer {
            var object: [String: Any] = ["peer": target.description]
            do {
                let channel = try Channel(host: target.host, port: target.port, config: ChannelConfig(
                    tls: tls.cluster?.client(expectingRole: .node), connectTimeout: .milliseconds(timeoutMs)))
                defer { Task { await channel.close() } }
                let s = try await channel.unary(GossipMethods.status, GossipV1.StatusRequest(),
                                                options: CallOptions(timeout: .milliseconds(timeoutMs)))
                object.merge([
                    "node_id": s.nodeId, "run_id": s.runId, "round": s.round, "epoch": s.epoch, "training": s.training,
                    "partner_id": s.partnerId, "test_accuracy": s.testAccuracy, "evaluated_round": s.evaluatedRound,
                    "megabytes_sent": s.megabytesSent, "exchanges": s.exchanges, "missed_exchanges": s.missedExchanges,
                    "link_mbps": Dictionary(zip(s.linkPeers, s.linkMbps), uniquingKeysWith: { $1 }),
                ]) { $1 }
            } catch {
                failed = true
                object["error"] = "\(error)"
            }
            var data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            data.append(UInt8(ascii: "\n"))
            FileHandle.standardOutput.write(data)
        }
        if failed { throw ExitCode(1) }
    }
}
