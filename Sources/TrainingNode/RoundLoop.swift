import Foundation
import Gossip
import GossipRPC
import GossipWire
import Learning
import Logging
import RaftNode
import Training

/// The rounds of one peer: (catch up if behind) → plan from the ledger → exchange with the
/// partner → one local SGD step → evaluate (--evals-per-epoch), checkpoint every K rounds.
struct RoundLoop {
    let peer: TrainingPeer
    let node: RaftNode<TrainingMachine>
    let proposer: TrainingProposer
    let trainer: LocalTrainer
    let mask: RandomKMask
    let point: ExchangePoint
    let store: CheckpointStore
    var round: Int
    var planner: RoundPlanner
    /// Set at start and whenever this peer was not training: it may be behind the others.
    var needsCatchUp = true
    /// Missed exchanges in a row, per partner and the admission (its first round) they count in.
    var misses: [String: (admittedFrom: Int, count: Int)] = [:]
    /// Retirements proposed, by partner and the admission they ended (not proposed twice).
    var retirementsProposed: Set<String> = []
    var lastAdmissionRequest: ContinuousClock.Instant?
    var lastCheckpoint: Int

    var config: RunConfiguration { trainer.configuration }
    var id: String { peer.id }
    var logger: Logger { peer.logger }
    var options: TrainingPeerOptions { peer.options }

    init(peer: TrainingPeer, node: RaftNode<TrainingMachine>, proposer: TrainingProposer, trainer: LocalTrainer, mask: RandomKMask,
         point: ExchangePoint, store: CheckpointStore, round: Int) {
        self.peer = peer
        self.node = node
        self.proposer = proposer
        self.trainer = trainer
        self.mask = mask
        self.point = point
        self.store = store
        self.round = round
        lastCheckpoint = round
        planner = RoundPlanner(configuration: trainer.configuration)
    }

    mutating func run() async throws {
        defer { point.leave() }
        while !peer.isStopping {
            point.serveCopies(round: round)
            let ledger = await node.machine.ledger
            if let total = config.rounds, round >= total {
                try await finish()
                // Stay a source of the final model for peers that fetch it, until stopped.
                while !peer.isStopping {
                    point.serveCopies(round: round)
                    try? await Task.sleep(for: .milliseconds(20))
                }
                return
            }
            guard let admission = ledger.admission(of: id) else {
                point.leave()
                peer.status.withLock { $0.training = false }
                requestAdmission(ledger)
                needsCatchUp = true
                try? await Task.sleep(for: .milliseconds(20))
                continue
            }
            if admission.slot != trainer.slot { trainer.move(toSlot: admission.slot) }
            if needsCatchUp {
                point.leave()
                if await catchUp(ledger: ledger, admittedFrom: admission.from) { needsCatchUp = false }
                else { try? await Task.sleep(for: .milliseconds(20)) }
                continue
            }
            point.enter(round: round)
            // The first rounds wait for the run's minimum of peers; once released, rounds never
            // stop for want of peers (the ones left train on).
            if ledger.horizon > 0 || ledger.admittedCount >= config.minParticipants, ledger.horizon - round <= config.horizonRounds / 2 {
                peer.extendHorizon(to: round + config.horizonRounds, proposer: proposer)
            }
            guard round < ledger.horizon else {
                // Every change to this round may not have reached us yet: wait for the horizon.
                try? await Task.sleep(for: .milliseconds(2))
                continue
            }
            if planner.nextRound > round { planner = RoundPlanner(configuration: config) }
            while planner.nextRound < round { _ = planner.planNext(ledger: ledger) }
            let plan = planner.planNext(ledger: ledger)
            let partners = plan.partners(of: id)
            let me = id
            peer.status.withLock {
                $0.training = plan.participants.contains { $0.node == me }
                $0.partner = partners.joined(separator: ",")
            }
            if config.algorithm == .dpsgd {
                await mix(with: partners, ledger: ledger)
            } else if let partner = partners.first {
                await exchange(with: partner, ledger: ledger)
            } else {
                point.settle(round: round)
            }
            let loss = await trainer.step(round: round)
            guard loss.isFinite else {
                throw TrainingPeerError("training diverged in round \(round): the loss is \(loss) (try a lower learning rate)")
            }
            round += 1
            let done = round, epoch = Double(round) / Double(config.roundsPerEpoch)
            peer.status.withLock {
                $0.round = done
                $0.epoch = epoch
            }
            // Evaluations at rounds ⌈k·R/E⌉, as the simulation's: on every epoch boundary, evenly between.
            let evaluations = options.evaluationsPerEpoch
            if (round * evaluations) / config.roundsPerEpoch != ((round - 1) * evaluations) / config.roundsPerEpoch { await evaluate() }
            if round - lastCheckpoint >= options.checkpointEvery { await checkpoint() }
        }
        await checkpoint()
    }

    // MARK: joining and catching up

    /// A newcomer's first round is this many horizons ahead; it fetches the model when the others
    /// are within `fetchLead` horizons of that round.
    static let admissionLead = 4
    static let fetchLead = 2

    private mutating func requestAdmission(_ ledger: TrainingLedger) {
        if let last = lastAdmissionRequest, ContinuousClock.now - last < .seconds(1) { return }
        lastAdmissionRequest = .now
        guard let slot = ledger.freeSlot(from: ledger.horizon + Self.admissionLead * config.horizonRounds, preferred: trainer.slot) else {
            logger.info("every data slot of run \(config.runId) is taken: waiting for one to free up")
            return
        }
        // Once training runs, a newcomer starts some horizons after the released rounds: time to
        // fetch the model and arrive level with the others before anyone is matched with it.
        let from = ledger.horizon == 0 ? 0 : ledger.horizon + Self.admissionLead * config.horizonRounds
        let event = TrainingEvent.admit(node: id, fromRound: from, slot: slot)
        let proposer = self.proposer
        Task { _ = await proposer.propose(event) }
    }

    /// Brings this peer level with the others: when someone is ahead, fetch its model and take
    /// its round. True when done (or nobody else trains); false to try again shortly.
    private mutating func catchUp(ledger: TrainingLedger, admittedFrom: Int) async -> Bool {
        let others = ledger.participants(at: max(admittedFrom, ledger.horizon - 1)).map(\.node).filter { $0 != id }
        var best: (node: String, address: String, round: Int)?
        for other in others {
            guard let address = await node.gossipAddress(of: other),
                  let status = try? await peer.channels.channel(to: address).unary(
                      GossipMethods.status, GossipV1.StatusRequest(), options: CallOptions(timeout: .milliseconds(500))),
                  status.runId == config.runId, status.training || isFinished(Int(status.round)) else { continue }
            if best.map({ Int(status.round) > $0.round }) ?? true { best = (other, address, Int(status.round)) }
        }
        guard let best else {
            // Nobody to learn from (the first peers, or everyone else down): start from our own model.
            if !others.isEmpty { logger.info("none of \(others) answered with its round: training on from round \(round)") }
            return true
        }
        // A newcomer fetches shortly before its first round, then runs the rounds up to it alone
        // (local steps only, which are fast): it arrives level with the others.
        // (One that comes after the run ended takes the final model as it is.)
        if !isFinished(best.round), best.round + Self.fetchLead * config.horizonRounds < admittedFrom { return false }
        if best.round <= round { return true }
        do {
            let started = ContinuousClock.now
            let (values, fetchedRound) = try await fetchModel(from: best.address)
            trainer.adopt(parameters: values, velocity: nil)
            logger.info("fetched the model of round \(fetchedRound) from \(best.node) in \(ContinuousClock.now - started) (was at round \(round), first round \(admittedFrom))")
            round = fetchedRound
            peer.status.withLock { $0.round = fetchedRound }
            return true
        } catch {
            logger.warning("fetching the model from \(best.node) failed: \(error)")
            return false
        }
    }

    /// Whether `round` is past the run's last.
    private func isFinished(_ round: Int) -> Bool { config.rounds.map { round >= $0 } ?? false }

    private func fetchModel(from address: String) async throws -> (values: [Float], round: Int) {
        let call = try await peer.channels.channel(to: address).serverStreaming(
            GossipMethods.fetchModel, GossipV1.FetchModelRequest(runId: config.runId, requesterId: id),
            options: CallOptions(timeout: .seconds(30)))
        var assembler = ModelAssembler(run: config.runId, architecture: config.architecture.rawValue,
                                       expectedValues: trainer.network.parameterCount)
        for try await chunk in call.responses {
            if let model = try assembler.add(chunk) {
                guard model.round <= UInt64(1) << 62 else { throw TrainingPeerError("fetched a model of round \(model.round)") }
                return (model.values, Int(model.round))
            }
        }
        throw TrainingPeerError("the model stream ended before the last chunk")
    }

    // MARK: one exchange

    /// The partner's current streak of missed exchanges (reset when it was admitted anew).
    private mutating func missesInARow(_ partner: String, ledger: TrainingLedger) -> Int {
        let admittedFrom = ledger.admission(of: partner)?.from ?? 0
        if let earlier = misses[partner], earlier.admittedFrom != admittedFrom { misses[partner] = nil }
        return misses[partner]?.count ?? 0
    }

    /// A partner that missed the last exchange is probably down: do not hold the round for it.
    private func timeout(afterMisses missedBefore: Int) -> Duration {
        missedBefore > 0 ? min(options.exchangeTimeout, .milliseconds(200)) : options.exchangeTimeout
    }

    /// The smaller id of a pair sends, the other answers.
    private func initiates(towards partner: String) -> Bool { id.utf8.lexicographicallyPrecedes(partner.utf8) }

    private mutating func exchange(with partner: String, ledger: TrainingLedger) async {
        let indices = mask.indices(seed: planner.maskSeed, round: UInt64(round))
        let missedBefore = missesInARow(partner, ledger: ledger)
        let timeout = timeout(afterMisses: missedBefore)
        var exchanged = false
        if initiates(towards: partner) {
            point.settle(round: round)
            exchanged = await send(to: partner, indices: indices, timeout: timeout)
        } else {
            // (The handler that answered counts the bytes it sent.)
            exchanged = await point.await(round: round, partner: partner, indices: indices, timeout: timeout) != .missed
        }
        await account(partner: partner, exchanged: exchanged, missedBefore: missedBefore, ledger: ledger)
    }

    /// D-PSGD's round: our whole model to each ring neighbour and theirs to us, all at once (we
    /// call those after us and wait for those before), then one mix of everything that came.
    private mutating func mix(with neighbours: [String], ledger: TrainingLedger) async {
        let mine = DenseMixing.bytes(of: trainer.model.parameters)
        var missedBefore: [String: Int] = [:]
        for neighbour in neighbours { missedBefore[neighbour] = missesInARow(neighbour, ledger: ledger) }
        let callers = Set(neighbours.filter { !initiates(towards: $0) })
        let callees = neighbours.filter { initiates(towards: $0) }
        let parameterCount = trainer.network.parameterCount
        let gatherTimeout = callers.map { timeout(afterMisses: missedBefore[$0]!) }.max() ?? .zero
        let (point, round) = (point, round)
        async let gathered = point.gather(round: round, from: callers, mine: mine, parameterCount: parameterCount, timeout: gatherTimeout)
        var received: [String: WireBytes] = [:]
        let call = ExchangeCall(peer: peer, node: node, runId: config.runId, round: round)
        await withTaskGroup(of: (String, WireBytes?).self) { group in
            for callee in callees {
                let timeout = timeout(afterMisses: missedBefore[callee]!)
                group.addTask {
                    guard let reply = await call.send(mine, to: callee, timeout: timeout) else { return (callee, nil) }
                    do {
                        try reply.withUnsafeBytes { raw in try DenseMixing.check(raw, parameterCount: parameterCount) }
                        return (callee, reply)
                    } catch {
                        call.peer.logger.warning("\(callee)'s model for round \(round) refused: \(error)")
                        return (callee, nil)
                    }
                }
            }
            for await (callee, reply) in group { received[callee] = reply }
        }
        received.merge(await gathered) { first, _ in first }
        // Mixed in the plan's order, so that every run sums the same way.
        let models = neighbours.compactMap { received[$0] }
        do {
            try withUnsafeRawBuffers(models) { raw in try DenseMixing.mix(params: &trainer.model.parameters, neighbourBytes: raw) }
        } catch {
            logger.error("round \(round): mixing failed (\(error)); keeping our own model")
        }
        for neighbour in neighbours {
            await account(partner: neighbour, exchanged: received[neighbour] != nil, missedBefore: missedBefore[neighbour]!, ledger: ledger)
        }
    }

    /// Counts an exchange, or a miss towards the partner's retirement.
    private mutating func account(partner: String, exchanged: Bool, missedBefore: Int, ledger: TrainingLedger) async {
        peer.status.withLock {
            if exchanged { $0.exchanges += 1 } else { $0.missed += 1 }
        }
        if exchanged {
            misses[partner] = nil
            return
        }
        // A partner that answers Status is alive (slow, catching up, or held up by its own dead
        // partner): only one that does not counts towards its retirement.
        if await isReachable(partner) { return }
        // A partner's first rounds are its arrival (loading, fetching): misses there do not count.
        let admittedFrom = ledger.admission(of: partner)?.from ?? 0
        guard round >= admittedFrom + Self.fetchLead * config.horizonRounds else { return }
        let count = missedBefore + 1
        misses[partner] = (admittedFrom, count)
        guard count >= options.missesToRetire, ledger.admission(of: partner) != nil,
              retirementsProposed.insert("\(partner)@\(admittedFrom)").inserted else { return }
        logger.warning("\(partner) missed \(count) exchanges in a row: proposing its retirement")
        let event = TrainingEvent.retire(node: partner, fromRound: round + 1, reason: "missed \(count) exchanges with \(id)")
        let proposer = self.proposer
        Task { _ = await proposer.propose(event) }
    }

    private func isReachable(_ partner: String) async -> Bool {
        guard let address = await node.gossipAddress(of: partner) else { return false }
        return (try? await peer.channels.channel(to: address).unary(
            GossipMethods.status, GossipV1.StatusRequest(), options: CallOptions(timeout: .milliseconds(300)))) != nil
    }

    /// The initiator's side: our half goes out, the partner's comes back and is averaged in.
    private func send(to partner: String, indices: [Int32], timeout: Duration) async -> Bool {
        do {
            let mine = try MaskedExchange.gatherBytes(from: trainer.model.parameters, at: indices)
            let call = ExchangeCall(peer: peer, node: node, runId: config.runId, round: round)
            guard let reply = await call.send(mine, to: partner, timeout: timeout) else { return false }
            try reply.withUnsafeBytes { raw in
                try MaskedExchange.mergeAverage(params: &trainer.model.parameters, indices: indices, partnerBytes: raw)
            }
            return true
        } catch {
            logger.warning("round \(round): \(partner)'s values refused: \(error)")
            return false
        }
    }

    // MARK: evaluation, checkpoints, the end

    private func evaluate() async {
        let evaluation = await trainer.evaluate()
        let accuracy = evaluation.accuracy, at = round
        peer.status.withLock {
            $0.accuracy = accuracy
            $0.evaluatedRound = at
        }
        logger.info("round \(at) (epoch \(at / config.roundsPerEpoch)): test accuracy \(String(format: "%.4f", accuracy))")
        let event = TrainingEvent.progress(node: id, round: at, accuracy: accuracy)
        let proposer = self.proposer
        Task { _ = await proposer.propose(event) }
    }

    private mutating func checkpoint() async {
        let state = trainer.state(round: round)
        let store = self.store
        let result = await trainer.onQueue { () -> String? in
            do {
                try store.save(state)
                return nil
            } catch { return "\(error)" }
        }
        if let result { logger.error("checkpoint of round \(round) failed: \(result)") } else { lastCheckpoint = round }
    }

    private mutating func finish() async throws {
        point.leave()
        if peer.status.withLock({ $0.evaluatedRound }) != round { await evaluate() }
        await checkpoint()
        peer.status.withLock { $0.training = false }
        logger.info("run \(config.runId) finished at round \(round)")
    }
}

/// One Exchange request of a round, from the side that calls: the partner's values when it
/// answered for this run and round, nil (logged) otherwise.
private struct ExchangeCall: Sendable {
    let peer: TrainingPeer
    let node: RaftNode<TrainingMachine>
    let runId: String
    let round: Int

    func send(_ values: [UInt8], to partner: String, timeout: Duration) async -> WireBytes? {
        do {
            guard let address = await node.gossipAddress(of: partner) else { return nil }
            let request = GossipV1.ModelValues(runId: runId, round: UInt64(round), senderId: peer.id, encoding: .float32LE, values: values)
            peer.status.withLock { $0.bytesSent += values.count }
            let reply = try await peer.channels.channel(to: address).unary(GossipMethods.exchange, request, options: CallOptions(timeout: timeout))
            guard reply.runId == runId, reply.round == UInt64(round), reply.encoding == .float32LE else {
                peer.logger.warning("\(partner) answered round \(round) with run \(reply.runId) round \(reply.round): ignored")
                return nil
            }
            return reply.values
        } catch {
            peer.logger.debug("round \(round): no exchange with \(partner): \(error)")
            return nil
        }
    }
}

/// The raw bytes of each of `blocks` at once, for as long as `body` runs.
private func withUnsafeRawBuffers<R>(_ blocks: [WireBytes], _ body: ([UnsafeRawBufferPointer]) throws -> R) rethrows -> R {
    func open(_ index: Int, _ opened: [UnsafeRawBufferPointer]) throws -> R {
        guard index < blocks.count else { return try body(opened) }
        return try blocks[index].withUnsafeBytes { raw in try open(index + 1, opened + [raw]) }
    }
    return try open(0, [])
}
