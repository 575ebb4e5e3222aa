import GossipRPC
import GossipWire

/// The gossip.v1 side of a training peer: what its partners, newcomers and `train-status` ask.
extension TrainingPeer: GossipBackend {
    public func trainingStatus() async -> GossipV1.TrainingStatus {
        let info = status.withLock { $0 }
        return GossipV1.TrainingStatus(nodeId: id, runId: info.runId, round: UInt64(info.round), epoch: info.epoch, training: info.training,
                                       partnerId: info.partner, testAccuracy: info.accuracy, evaluatedRound: UInt64(info.evaluatedRound),
                                       megabytesSent: Double(info.bytesSent) / 1e6, exchanges: UInt64(info.exchanges),
                                       missedExchanges: UInt64(info.missed), linkPeers: info.links.keys.sorted(),
                                       linkMbps: info.links.keys.sorted().map { info.links[$0]! })
    }

    public func currentModel(run: String) async -> (values: [Float], round: UInt64, architecture: String)? {
        guard let engine = engine.withLock({ $0 }), engine.configuration.runId == run else { return nil }
        let copy = await engine.point.modelCopy()
        return (copy.values, UInt64(copy.round), engine.configuration.architecture.rawValue)
    }

    public func committedTraining(from position: Int) async -> (generation: Int, entries: [GossipV1.CommittedTraining], next: Int) {
        guard let node = boundNode else { return (0, [], position) }
        return await node.machine.committedTraining(from: position)
    }

    public func exchange(_ values: GossipV1.ModelValues, deadline: ContinuousClock.Instant?) async throws -> GossipV1.ModelValues {
        guard let engine = engine.withLock({ $0 }) else { throw RPCError(.unavailable, "\(id) has not started training yet") }
        let run = engine.configuration.runId
        guard values.runId == run else {
            throw RPCError(.failedPrecondition, "\(id) trains run \(run.debugDescription), not \(values.runId.debugDescription)")
        }
        guard values.encoding == .float32LE else {
            throw RPCError(.invalidArgument, "values must be FLOAT32_LE for \(engine.configuration.algorithm.rawValue), not \(values.encoding)")
        }
        guard values.values.count == engine.maskCount * 4 else {
            throw RPCError(.invalidArgument, "\(values.values.count) bytes of values; run \(run) exchanges \(engine.maskCount) float32 values a round")
        }
        guard values.round <= UInt64(1) << 62 else { throw RPCError(.invalidArgument, "round \(values.round) is out of range") }
        // Wait for our loop no longer than the caller waits for us, less a fifth for the answer's
        // way back: an answer it gave up on would leave the two models mixed one way only.
        var timeout = options.exchangeTimeout * 0.8
        if let deadline { timeout = min(timeout, (deadline - .now) * 0.8) }
        let mine = try await engine.point.exchange(round: Int(values.round), sender: values.senderId, partnerBytes: values.values,
                                                   timeout: timeout)
        status.withLock { $0.bytesSent += mine.count }
        return GossipV1.ModelValues(runId: run, round: values.round, senderId: id, encoding: .float32LE, values: mine)
    }
}
