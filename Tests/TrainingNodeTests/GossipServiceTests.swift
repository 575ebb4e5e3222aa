import GossipRPC
import GossipWire
import Testing
import Training
@testable import TrainingNode

/// A backend with a fixed model that answers exchanges with its own values.
actor FixedBackend: GossipBackend {
    let model: [Float]
    private(set) var exchanges: [GossipV1.ModelValues] = []
    /// The training entries FollowTraining streams.
    var machine = TrainingMachine()

    init(model: [Float]) { self.model = model }

    func apply(_ event: TrainingEvent, index: UInt64) { machine.apply(GossipV1.TrainingCommand(event).encode(), index: index) }
    func restore(_ snapshot: [UInt8]) throws { try machine.restore(snapshot) }

    func committedTraining(from position: Int) async -> (generation: Int, entries: [GossipV1.CommittedTraining], next: Int) {
        machine.committedTraining(from: position)
    }

    func trainingStatus() async -> GossipV1.TrainingStatus {
        GossipV1.TrainingStatus(nodeId: "n1", runId: "run-1", round: 41, epoch: 0.27, training: true, partnerId: "n2")
    }

    func currentModel(run: String) async -> (values: [Float], round: UInt64, architecture: String)? {
        run == "run-1" ? (model, 41, "mlp") : nil
    }

    func exchange(_ values: GossipV1.ModelValues, deadline: ContinuousClock.Instant?) async throws -> GossipV1.ModelValues {
        guard values.round == 42 else { throw RPCError(.failedPrecondition, "round \(values.round) is not 42") }
        exchanges.append(values)
        return GossipV1.ModelValues(runId: values.runId, round: 42, senderId: "n1", encoding: .float32LE, values: [1, 2, 3, 4])
    }
}

/// The service over real HTTP/2 on loopback (plain text: every caller is trusted there).
@Suite(.timeLimit(.minutes(1))) struct GossipServiceTests {
    static func withGossip(_ backend: FixedBackend, _ body: (Channel) async throws -> Void) async throws {
        let server = try Server(config: ServerConfig(), services: [GossipService.make(backend: backend)])
        try server.start()
        let channel = try Channel(host: "127.0.0.1", port: server.port, config: ChannelConfig())
        do {
            try await body(channel)
        } catch {
            await channel.close()
            await server.shutdown(grace: .seconds(1))
            throw error
        }
        await channel.close()
        await server.shutdown(grace: .seconds(1))
    }

    @Test func fetchModelStreamsAWholeModelThatAssembles() async throws {
        let model = (0..<200_000).map { Float($0) / 7 }
        try await Self.withGossip(FixedBackend(model: model)) { channel in
            let call = try await channel.serverStreaming(GossipMethods.fetchModel,
                                                         GossipV1.FetchModelRequest(runId: "run-1", requesterId: "n5", chunkValues: 65_536))
            var assembler = ModelAssembler(run: "run-1", architecture: "mlp", expectedValues: model.count)
            var result: (values: [Float], round: UInt64)?
            var chunks = 0
            for try await chunk in call.responses {
                chunks += 1
                result = try assembler.add(chunk)
            }
            #expect(chunks == 4 && result?.values == model && result?.round == 41)
            #expect(await statusCode {
                for try await _ in try await channel.serverStreaming(GossipMethods.fetchModel, GossipV1.FetchModelRequest(runId: "other")).responses {}
            } == .failedPrecondition)
            #expect(await statusCode {
                for try await _ in try await channel.serverStreaming(
                    GossipMethods.fetchModel, GossipV1.FetchModelRequest(runId: "run-1", chunkValues: 1 << 20)).responses {}
            } == .invalidArgument)
        }
    }

    /// A follower gets every committed entry, then new ones as they are applied; a snapshot
    /// restore ends the stream with UNAVAILABLE (follow again).
    @Test func followTrainingStreamsTheLedgerThenLiveEntries() async throws {
        let backend = FixedBackend(model: [0])
        let run = RunConfiguration(runId: "run-1", architecture: .mlp, partition: .iid, slots: 4, seed: 3, roundsPerEpoch: 10, rounds: 100)
        await backend.apply(.configure(run), index: 3)
        await backend.apply(.admit(node: "n1", fromRound: 0, slot: 0), index: 4)
        await backend.apply(.horizon(untilRound: 16), index: 6)
        await backend.apply(.horizon(untilRound: 32), index: 9)
        try await Self.withGossip(backend) { channel in
            let call = try await channel.serverStreaming(GossipMethods.followTraining, GossipV1.FollowTrainingRequest(followerId: "py1"))
            var received: [GossipV1.CommittedTraining] = []
            var ledger = TrainingLedger()
            var ending: RPCError?
            do {
                for try await entry in call.responses {
                    received.append(entry)
                    ledger.apply(try TrainingEvent(command: entry.command!))
                    if received.count == 3 {
                        // Applied while the stream is open: it arrives after the history.
                        await backend.apply(.admit(node: "py1", fromRound: 2, slot: 1, address: "127.0.0.1:7300"), index: 12)
                    } else if received.count == 4 {
                        try await backend.restore(await backend.machine.snapshot())
                    }
                }
            } catch let error as RPCError {
                ending = error
            }
            #expect(ending?.code == .unavailable, "\(String(describing: ending))")
            // The superseded horizon is not sent; the newcomer's admission took effect at the horizon.
            #expect(received.map(\.index) == [3, 4, 9, 12])
            #expect(ledger.horizon == 32 && ledger.admission(of: "py1")! == (slot: 1, from: 32))
            #expect(ledger.externalAddresses == ["py1": "127.0.0.1:7300"])
            // A new stream starts from the restored history (every entry at the snapshot's index).
            let again = try await channel.serverStreaming(GossipMethods.followTraining, GossipV1.FollowTrainingRequest(followerId: "py1"))
            var fresh: [UInt64] = []
            for try await entry in again.responses {
                fresh.append(entry.index)
                if fresh.count == 4 { break }
            }
            #expect(fresh == [12, 12, 12, 12])
        }
    }

    @Test func probeStatusAndExchange() async throws {
        let backend = FixedBackend(model: [0])
        try await Self.withGossip(backend) { channel in
            let probe = try await channel.unary(GossipMethods.probe, GossipV1.ProbeRequest(senderId: "n2", payload: [UInt8](repeating: 7, count: 100_000),
                                                                                          replyBytes: 300_000))
            #expect(probe.payload.count == 300_000)
            #expect(await statusCode { _ = try await channel.unary(GossipMethods.probe, GossipV1.ProbeRequest(replyBytes: .max)) } == .invalidArgument)
            let status = try await channel.unary(GossipMethods.status, GossipV1.StatusRequest())
            #expect(status.round == 41 && status.partnerId == "n2")
            let answer = try await channel.unary(GossipMethods.exchange,
                                                 GossipV1.ModelValues(runId: "run-1", round: 42, senderId: "n2", encoding: .float32LE, values: [0, 0, 0, 0]))
            #expect(answer.senderId == "n1" && answer.values == [1, 2, 3, 4])
            #expect(await statusCode { _ = try await channel.unary(GossipMethods.exchange, GossipV1.ModelValues(round: 7)) } == .failedPrecondition)
            #expect(await backend.exchanges.count == 1)
            // A request past the method's limit never reaches the backend, and the call ends promptly.
            #expect(await statusCode {
                _ = try await channel.unary(GossipMethods.exchange, GossipV1.ModelValues(values: [UInt8](repeating: 0, count: GossipService.maxExchangeBytes + 1)),
                                            options: CallOptions(timeout: .seconds(20)))
            } == .resourceExhausted)
            #expect(await backend.exchanges.count == 1)
        }
    }
}
