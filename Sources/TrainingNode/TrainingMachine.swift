import GossipWire
import RaftNode
import Training

/// The Raft state machine of a training peer: committed `gossip.v1.TrainingCommand`s applied to a
/// `TrainingLedger`, in log order. A snapshot is the commands that shaped the ledger, as they took
/// effect, replayed on restore (only each peer's newest reports and the newest horizon are kept,
/// so it stays small).
public struct TrainingMachine: StateMachine {
    public private(set) var ledger = TrainingLedger()
    /// Why the newest entries were ignored (the same on every peer), for the log.
    public private(set) var ignored: [(index: UInt64, reason: String)] = []
    public private(set) var appliedIndex: UInt64 = 0
    /// What shaped the ledger, in order, with the index each came at; superseded ones are empty.
    /// Positions stay put until a snapshot replaces everything (which bumps `generation`).
    private var history: [(index: UInt64, data: [UInt8])] = []
    public private(set) var generation = 0
    /// Where each peer's latest progress report and bandwidth report sit in `history`.
    private var latestAt: [String: Int] = [:]

    public init() {}

    public mutating func apply(_ data: [UInt8], index: UInt64) {
        appliedIndex = index
        let event: TrainingEvent
        do {
            event = try TrainingEvent(command: try GossipV1.TrainingCommand(decoding: data))
        } catch {
            note(index, "not a training command: \(error)")
            return
        }
        switch ledger.apply(event) {
        case .applied:
            // Only a peer's newest report of each kind, and the newest horizon, matter: older ones
            // leave the snapshot.
            let key: String? = switch event {
            case .progress(let node, _, _): "progress:" + node
            case .report(let node, _): "report:" + node
            case .horizon: "horizon"
            default: nil
            }
            if let key {
                if let earlier = latestAt[key] { history[earlier].data = [] }
                latestAt[key] = history.count
            }
            history.append((index, effective(event).map { GossipV1.TrainingCommand($0).encode() } ?? data))
        case .ignored(let reason):
            note(index, reason)
        }
    }

    /// The entry as it took effect, when that differs from what it asked for: admissions,
    /// retirements and matrices are moved up to the horizon of the time. The snapshot keeps only
    /// the newest horizon, so a replay must not depend on the ones it dropped.
    private func effective(_ event: TrainingEvent) -> TrainingEvent? {
        switch event {
        case .admit(let node, let requested, let slot, let address):
            guard let from = ledger.admission(of: node)?.from, from != requested else { return nil }
            return .admit(node: node, fromRound: from, slot: slot, address: address)
        case .retire(let node, let requested, let reason):
            guard let to = ledger.retiredFrom(node), to != requested else { return nil }
            return .retire(node: node, fromRound: to, reason: reason)
        case .bandwidth(let workers, let matrix, let requested):
            guard let from = ledger.latestMatrix?.from, from != requested else { return nil }
            return .bandwidth(workers: workers, matrix: matrix, fromRound: from)
        default:
            return nil
        }
    }

    /// What FollowTraining streams: the entries from history position `position` on, the
    /// position after them, and the generation positions count in.
    public func committedTraining(from position: Int) -> (generation: Int, entries: [GossipV1.CommittedTraining], next: Int) {
        guard position < history.count else { return (generation, [], max(position, history.count)) }
        // Each record was a valid command when it was applied; superseded ones are empty.
        let entries = history[max(0, position)...].compactMap { record in
            record.data.isEmpty ? nil
                : (try? GossipV1.TrainingCommand(decoding: record.data)).map { GossipV1.CommittedTraining(index: record.index, command: $0) }
        }
        return (generation, entries, history.count)
    }

    private mutating func note(_ index: UInt64, _ reason: String) {
        ignored.append((index, reason))
        if ignored.count > 16 { ignored.removeFirst(ignored.count - 16) }
    }

    public func snapshot() -> [UInt8] {
        var out: [UInt8] = []
        append(appliedIndex, to: &out)
        for record in history where !record.data.isEmpty {
            append(UInt64(record.data.count), to: &out)
            out += record.data
        }
        return out
    }

    public mutating func restore(_ data: [UInt8]) throws {
        var fresh = TrainingMachine()
        guard !data.isEmpty else {
            fresh.generation = generation + 1
            self = fresh
            return
        }
        guard data.count >= 8 else { throw SnapshotFormatError(reason: "training snapshot of \(data.count) bytes") }
        let index = Self.u64(data, at: 0)
        var position = 8
        while position < data.count {
            guard data.count - position >= 8 else { throw SnapshotFormatError(reason: "truncated length at byte \(position)") }
            let length = Self.u64(data, at: position)
            position += 8
            guard length <= UInt64(data.count - position) else { throw SnapshotFormatError(reason: "record of \(length) bytes at \(position)") }
            fresh.apply(Array(data[position..<position + Int(length)]), index: index)
            position += Int(length)
        }
        fresh.appliedIndex = index
        fresh.ignored = []
        fresh.generation = generation + 1
        self = fresh
    }

    private func append(_ value: UInt64, to out: inout [UInt8]) {
        for shift in stride(from: 0, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    private static func u64(_ bytes: [UInt8], at offset: Int) -> UInt64 {
        (0..<8).reduce(0) { $0 | UInt64(bytes[offset + $1]) << UInt64(8 * $1) }
    }
}
