import Gossip
import GossipWire
import Learning
import RaftNode
import Training

/// A committed entry that is not a training command this peer can use (also what Python peers
/// would get wrong): named, so the log line says which field.
public struct TrainingCommandError: Error, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

extension TrainingEvent {
    /// The event a committed `gossip.v1.TrainingCommand` carries.
    public init(command: GossipV1.TrainingCommand) throws(TrainingCommandError) {
        let set = [command.configure != nil, command.admit != nil, command.retire != nil, command.bandwidth != nil,
                   command.progress != nil, command.horizon != nil, command.report != nil].filter { $0 }.count
        guard set == 1 else { throw TrainingCommandError("a training command sets exactly one field, this one sets \(set)") }
        if let c = command.configure {
            self = .configure(try RunConfiguration(c))
        } else if let a = command.admit {
            guard a.address.isEmpty || PeerAddress(a.address) != nil else {
                throw TrainingCommandError("admit: address \(a.address.debugDescription) is not HOST:PORT")
            }
            self = .admit(node: a.nodeId, fromRound: try Self.round(a.fromRound), slot: Int(a.slot), address: a.address)
        } else if let r = command.retire {
            self = .retire(node: r.nodeId, fromRound: try Self.round(r.fromRound), reason: r.reason)
        } else if let b = command.bandwidth {
            let n = b.workers.count
            guard b.mbps.count == n * n else {
                throw TrainingCommandError("bandwidth: \(b.mbps.count) values for \(n) workers (need \(n * n))")
            }
            let rows = (0..<n).map { Array(b.mbps[($0 * n)..<(($0 + 1) * n)]) }
            let from = try Self.round(b.fromRound)
            let matrix: BandwidthMatrix
            do { matrix = try BandwidthMatrix(rows: rows) } catch { throw TrainingCommandError("bandwidth: \(error)") }
            self = .bandwidth(workers: b.workers, matrix: matrix, fromRound: from)
        } else if let r = command.report {
            self = .report(node: r.reporterId, mbps: r.mbpsToPeer)
        } else if let h = command.horizon {
            self = .horizon(untilRound: try Self.round(h.untilRound))
        } else {
            let p = command.progress!
            self = .progress(node: p.nodeId, round: try Self.round(p.round), accuracy: p.testAccuracy)
        }
    }

    /// Rounds beyond Int's range (or the Raft bound) cannot be planned.
    static func round(_ value: UInt64) throws(TrainingCommandError) -> Int {
        guard value <= UInt64(1) << 62 else { throw TrainingCommandError("round \(value) is out of range") }
        return Int(value)
    }
}

extension RunConfiguration {
    init(_ c: GossipV1.TrainingConfig) throws(TrainingCommandError) {
        guard let architecture = Architecture(rawValue: c.model) else {
            throw TrainingCommandError("configure: model \(c.model.debugDescription) is not logreg, mlp or cnn")
        }
        guard let algorithm = Algorithm(rawValue: c.algorithm), [.saps, .random, .dpsgd, .power].contains(algorithm) else {
            throw TrainingCommandError("configure: algorithm \(c.algorithm.debugDescription) is not saps, random, dpsgd or power")
        }
        let partition: PartitionScheme
        do { partition = try PartitionScheme(parsing: c.partition) } catch { throw TrainingCommandError("configure: \(error)") }
        guard c.keepFraction > 0, c.keepFraction <= 1, c.learningRate > 0, c.learningRate.isFinite, c.learningRateDecay > 0,
              c.momentum >= 0, c.momentum < 1, c.weightDecay >= 0, c.weightDecay.isFinite, c.batchSize >= 1,
              c.batchSize <= UInt32(SimulationConfig.maxBatchSize), c.roundsPerEpoch >= 1, c.slots >= 1, c.minParticipants <= c.slots, !c.runId.isEmpty,
              c.bandwidthThreshold.isFinite else {
            throw TrainingCommandError("configure: run id, slots, keep fraction, learning rate, momentum, weight decay, batch size "
                                       + "or rounds per epoch out of range")
        }
        self.init(runId: c.runId, architecture: architecture, dataset: c.dataset, partition: partition, slots: Int(c.slots), seed: c.seed,
                  algorithm: algorithm, keepFraction: c.keepFraction, learningRate: Float(c.learningRate),
                  learningRateDecay: Float(c.learningRateDecay), momentum: Float(c.momentum), weightDecay: Float(c.weightDecay),
                  batchSize: Int(c.batchSize), roundsPerEpoch: Int(c.roundsPerEpoch),
                  rounds: c.rounds == 0 ? nil : try TrainingEvent.round(c.rounds),
                  bandwidthThreshold: c.bandwidthThreshold, roundThreshold: Int(c.roundThreshold),
                  minParticipants: Int(max(1, c.minParticipants)),
                  horizonRounds: c.horizonRounds == 0 ? RunConfiguration.defaultHorizonRounds : Int(c.horizonRounds))
    }
}

extension GossipV1.TrainingCommand {
    /// The entry to propose for `event`.
    public init(_ event: TrainingEvent) {
        self.init()
        switch event {
        case .configure(let run):
            var c = GossipV1.TrainingConfig()
            c.runId = run.runId
            c.model = run.architecture.rawValue
            c.dataset = run.dataset
            c.partition = run.partition.description
            c.slots = UInt32(run.slots)
            c.seed = run.seed
            c.algorithm = run.algorithm.rawValue
            c.keepFraction = run.keepFraction
            c.learningRate = Double(run.learningRate)
            c.learningRateDecay = Double(run.learningRateDecay)
            c.momentum = Double(run.momentum)
            c.weightDecay = Double(run.weightDecay)
            c.batchSize = UInt32(run.batchSize)
            c.roundsPerEpoch = UInt32(run.roundsPerEpoch)
            c.rounds = UInt64(run.rounds ?? 0)
            c.bandwidthThreshold = run.bandwidthThreshold
            c.roundThreshold = UInt32(run.roundThreshold)
            c.minParticipants = UInt32(run.minParticipants)
            c.horizonRounds = UInt32(run.horizonRounds)
            configure = c
        case .admit(let node, let from, let slot, let address):
            admit = GossipV1.Admission(nodeId: node, fromRound: UInt64(from), slot: UInt32(slot), address: address)
        case .retire(let node, let from, let reason):
            retire = GossipV1.Retirement(nodeId: node, fromRound: UInt64(from), reason: reason)
        case .bandwidth(let workers, let matrix, let from):
            bandwidth = GossipV1.BandwidthMatrix(workers: workers, mbps: matrix.rows.flatMap { $0 }, fromRound: UInt64(from))
        case .progress(let node, let round, let accuracy):
            progress = GossipV1.ProgressReport(nodeId: node, round: UInt64(round), testAccuracy: accuracy)
        case .horizon(let until):
            horizon = GossipV1.RoundHorizon(untilRound: UInt64(until))
        case .report(let node, let mbps):
            report = GossipV1.BandwidthReport(reporterId: node, mbpsToPeer: mbps)
        }
    }
}
