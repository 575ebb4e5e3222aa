import ArgumentParser
import Foundation
import GossipRPC
import GossipWire
import RaftNode

/// Load generator for replicated writes: N proposals from C concurrent callers to a
/// leader, over `raft.v1.Cluster/Propose` or, for comparison, etcd's `KV/Put`.
/// A call returns once the write is committed, so throughput counts commits.
struct RaftBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "raft-bench", abstract: "Measure committed writes/s and latency against a leader (prints one JSON line).")

    enum Target: String, ExpressibleByArgument { case gossipfl, etcd }

    @Option(help: "The leader (HOST:PORT).") var leader: HostPort
    @Option(help: "gossipfl (raft.v1.Cluster/Propose) or etcd (etcdserverpb.KV/Put).") var target = Target.gossipfl
    @Option(help: "Concurrent callers.") var clients = 64
    @Option(help: "HTTP/2 connections the callers share.") var connections = 4
    @Option(help: "Writes in total.") var writes = 20_000
    @Option(help: "Bytes per write.") var size = 128
    @OptionGroup var tls: TLSOptions

    func validate() throws {
        guard clients > 0, writes > 0, connections > 0, size >= 0 else { throw ValidationError("counts must be positive") }
    }

    func run() async throws {
        let config = ChannelConfig(tls: tls.cluster?.client(expectingRole: .node))
        let channels = try (0..<min(connections, clients)).map { _ in try Channel(host: leader.host, port: leader.port, config: config) }
        let payload = [UInt8](repeating: 0x61, count: size)
        let target = target
        let writes = writes
        let clients = clients
        let start = ContinuousClock.now
        let (latencies, errors, firstError) = await withTaskGroup(of: ([Double], Int, String?).self) { group in
            for c in 0..<clients {
                let channel = channels[c % channels.count]
                group.addTask {
                    var latencies: [Double] = []
                    var errors = 0
                    var firstError: String?
                    for i in stride(from: c, to: writes, by: clients) {
                        let t0 = ContinuousClock.now
                        do {
                            try await Self.write(target, key: "k\(i)", value: payload, on: channel)
                            latencies.append(LoadSummary.milliseconds(since: t0))
                        } catch {
                            errors += 1
                            if firstError == nil { firstError = "\(error)" }
                        }
                    }
                    return (latencies, errors, firstError)
                }
            }
            var all: [Double] = []
            var errors = 0
            var first: String?
            for await (latencies, failed, message) in group {
                all += latencies
                errors += failed
                first = first ?? message
            }
            return (all, errors, first)
        }
        let summary = LoadSummary(latencies: latencies, errors: errors, since: start)
        for channel in channels { await channel.close() }
        var fields: [String: Any] = ["target": target.rawValue, "writes": writes, "clients": clients]
        if let firstError { fields["first_error"] = firstError }
        try summary.print(fields)
        if errors > 0 { throw ExitCode.failure }
    }

    private static let propose = RaftMethods.propose
    private static let etcdPut = MethodDescriptor<RawMessage, RawMessage>(service: "etcdserverpb.KV", method: "Put")

    private static func write(_ target: Target, key: String, value: [UInt8], on channel: Channel) async throws {
        let options = CallOptions(timeout: .seconds(10))
        switch target {
        case .gossipfl:
            let reply = try await channel.unary(propose, RaftV1.ProposeRequest(data: Array(key.utf8) + value), options: options)
            guard reply.committed else { throw RPCError(.unavailable, "not the leader (leader: \(reply.leaderId))") }
        case .etcd:
            _ = try await channel.unary(etcdPut, RawMessage.etcdPut(key: Array(key.utf8), value: value), options: options)
        }
    }
}

/// Protobuf bytes passed through untouched: enough for etcd's PutRequest (key = 1, value = 2),
/// whose response the benchmark does not read.
struct RawMessage: WireMessage {
    var bytes: [UInt8]

    init(bytes: [UInt8]) { self.bytes = bytes }
    init(decoding bytes: UnsafeRawBufferPointer) throws { self.bytes = Array(bytes) }
    func encode() -> [UInt8] { bytes }

    static func etcdPut(key: [UInt8], value: [UInt8]) -> RawMessage {
        RawMessage(bytes: [0x0A] + varint(key.count) + key + [0x12] + varint(value.count) + value)
    }

    private static func varint(_ n: Int) -> [UInt8] {
        var out: [UInt8] = []
        var v = UInt64(n)
        repeat {
            out.append(UInt8(v & 0x7F) | (v > 0x7F ? 0x80 : 0))
            v >>= 7
        } while v > 0
        return out
    }
}
