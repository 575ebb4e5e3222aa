import Foundation
import Gossip
import GossipRPC
import GossipWire
import Synchronization

/// Where a peer's training loop and its partner's Exchange call meet. The loop (the responder
/// of a pair) parks here with its round, partner and mask; the partner's request for that round
/// averages the masked values into the model and answers with the peer's own, and the loop goes
/// on. A request that comes early waits, bounded, for the loop to arrive; one that comes late, or
/// from someone else, is refused with the model untouched.
public final class ExchangePoint: Sendable {
    public enum Outcome: Sendable, Equatable {
        /// The partner's values were averaged in; the bytes are what it sent.
        case exchanged(receivedBytes: Int)
        /// No request came in time (or it had already given up): the peer keeps its own values.
        case missed
    }

    private enum Phase {
        /// Training or planning: no exchange can complete now.
        case busy
        /// Parked at `round`'s exchange, waiting for `partner`.
        case waiting(round: Int, partner: String, indices: [Int32], token: UInt64,
                     continuation: CheckedContinuation<Outcome, Never>)
        /// Not training (before admission, while catching up): requests fail at once.
        case away
    }

    private struct State {
        var phase = Phase.away
        /// The round the loop is in (or last was), and the last round whose exchange is over
        /// (done, missed or sent by this peer): requests up to it come too late.
        var round = -1
        var settled = -1
        /// Wakes the parked loop when its partner never comes; cancelled when it does.
        var timer: Task<Void, Never>?
        /// Rounds whose request came and was turned away: the loop does not wait for them.
        var abandoned: Set<Int> = []
        var nextToken: UInt64 = 0
        /// Requests that came before the loop arrived, woken whenever the loop moves.
        var early: [UInt64: CheckedContinuation<Void, Never>] = [:]
        /// FetchModel callers waiting for a consistent copy of the model.
        var copyRequests: [CheckedContinuation<(values: [Float], round: Int), Never>] = []
    }

    private let state = Mutex(State())
    let model: ModelBox

    init(model: ModelBox) { self.model = model }

    // MARK: the training loop's side

    /// The loop starts round `round` (not parked): early requests for it keep waiting.
    func enter(round: Int) {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.round = round
            state.phase = .busy
            state.abandoned = state.abandoned.filter { $0 >= round }
            defer { state.early = [:] }
            return Array(state.early.values)
        }
        for continuation in woken { continuation.resume() }
    }

    /// The loop does not train for now: every request is refused at once.
    func leave() {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.phase = .away
            defer { state.early = [:] }
            return Array(state.early.values)
        }
        for continuation in woken { continuation.resume() }
    }

    /// Parks at `round`'s exchange with `partner` for up to `timeout`.
    func await(round: Int, partner: String, indices: [Int32], timeout: Duration) async -> Outcome {
        await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
            let (token, woken, missed) = state.withLock { state -> (UInt64, [CheckedContinuation<Void, Never>], Bool) in
                state.round = round
                if state.abandoned.contains(round) {
                    state.phase = .busy
                    state.settled = round
                    return (0, [], true)
                }
                state.nextToken += 1
                state.phase = .waiting(round: round, partner: partner, indices: indices, token: state.nextToken, continuation: continuation)
                defer { state.early = [:] }
                return (state.nextToken, Array(state.early.values), false)
            }
            if missed {
                continuation.resume(returning: .missed)
                return
            }
            for early in woken { early.resume() }
            let timer = Task { [self] in
                try? await Task.sleep(for: timeout)
                if !Task.isCancelled { expire(token: token) }
            }
            state.withLock { $0.timer = timer }
        }
    }

    /// This peer sends round `round`'s request itself: requests for it are refused.
    func settle(round: Int) {
        state.withLock { state in
            state.round = round
            state.settled = max(state.settled, round)
        }
    }

    private func expire(token: UInt64) {
        let continuation = state.withLock { state -> CheckedContinuation<Outcome, Never>? in
            guard case .waiting(let round, _, _, let waiting, let continuation) = state.phase, waiting == token else { return nil }
            state.phase = .busy
            state.settled = round
            return continuation
        }
        continuation?.resume(returning: .missed)
    }

    /// Hands a copy of the model, as it is at the start of `round`, to FetchModel callers; the
    /// loop calls this where it does not touch the parameters (between rounds, while idle).
    func serveCopies(round: Int) {
        let waiting = state.withLock { state -> [CheckedContinuation<(values: [Float], round: Int), Never>] in
            defer { state.copyRequests = [] }
            return state.copyRequests
        }
        guard !waiting.isEmpty else { return }
        let copy = model.parameters
        for continuation in waiting { continuation.resume(returning: (copy, round)) }
    }

    // MARK: the handlers' side

    /// The partner's half of `round` (float32 little-endian bytes at the shared mask); returns
    /// this peer's half. Waits up to `timeout` for the loop to reach that round.
    func exchange(round: Int, sender: String, partnerBytes: WireBytes, timeout: Duration) async throws -> [UInt8] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let attempt = try state.withLock { state throws -> Attempt in
                switch state.phase {
                case .away:
                    state.abandoned.insert(round)
                    throw RPCError(.unavailable, "not training round \(round) yet (joining or catching up)")
                case .waiting(let current, let partner, let indices, _, let continuation) where current == round:
                    guard partner == sender else {
                        throw RPCError(.failedPrecondition, "\(sender) is not this peer's partner in round \(round) (\(partner) is)")
                    }
                    let mine: [UInt8]
                    do {
                        mine = try MaskedExchange.gatherBytes(from: model.parameters, at: indices)
                        try partnerBytes.withUnsafeBytes { raw in
                            try MaskedExchange.mergeAverage(params: &model.parameters, indices: indices, partnerBytes: raw)
                        }
                    } catch {
                        throw RPCError(.invalidArgument, "round \(round) from \(sender): \(error); the model is untouched")
                    }
                    state.phase = .busy
                    state.settled = round
                    state.timer?.cancel()
                    state.timer = nil
                    return .done(mine, continuation)
                default:
                    if round < state.round || round <= state.settled {
                        throw RPCError(.failedPrecondition, "round \(round) has passed here (this peer is in round \(state.round))")
                    }
                    guard ContinuousClock.now < deadline else {
                        state.abandoned.insert(round)
                        throw RPCError(.deadlineExceeded, "this peer did not reach round \(round) in time (it is in round \(state.round))")
                    }
                    state.nextToken += 1
                    return .wait(state.nextToken)
                }
            }
            switch attempt {
            case .done(let mine, let continuation):
                continuation.resume(returning: Outcome.exchanged(receivedBytes: partnerBytes.count))
                return mine
            case .wait(let token):
                await waitForMove(token: token, until: deadline)
            }
        }
    }

    private enum Attempt {
        case done([UInt8], CheckedContinuation<Outcome, Never>)
        case wait(UInt64)
    }

    /// Sleeps until the loop moves (enters a round, parks, leaves) or the deadline passes.
    private func waitForMove(token: UInt64, until deadline: ContinuousClock.Instant) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            state.withLock { $0.early[token] = continuation }
            Task { [self] in
                try? await Task.sleep(until: deadline)
                let late = state.withLock { $0.early.removeValue(forKey: token) }
                late?.resume()
            }
        }
    }

    /// A consistent copy of the model: at once while the loop is parked, else at its next round
    /// boundary or idle step.
    func modelCopy() async -> (values: [Float], round: Int) {
        await withCheckedContinuation { (continuation: CheckedContinuation<(values: [Float], round: Int), Never>) in
            let now = state.withLock { state -> (values: [Float], round: Int)? in
                switch state.phase {
                case .waiting(let round, _, _, _, _): return (model.parameters, round)
                case .busy, .away:
                    state.copyRequests.append(continuation)
                    return nil
                }
            }
            if let now { continuation.resume(returning: now) }
        }
    }
}

/// The model's parameters, shared between the training loop and the exchange handlers.
final class ModelBox: @unchecked Sendable {
    // The loop writes only while the ExchangePoint is not `waiting` (no handler touches the values
    // then); handlers read and write only under the ExchangePoint's lock while it is `waiting`.
    var parameters: [Float]
    init(parameters: [Float]) { self.parameters = parameters }
}
