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
///
/// D-PSGD's ring parks differently (`gather`): the loop waits for several neighbours at once,
/// each request is answered with the model as it was at the round's start and its values are
/// kept, not merged; the loop mixes them all in once the round's exchanges are over.
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
        /// Parked at a ring round's exchange, collecting the neighbours that call this peer.
        case gathering(Gathering)
        /// Not training (before admission, while catching up): requests fail at once.
        case away
    }

    private struct Abandoned: Hashable {
        let round: Int
        let sender: String
    }

    private struct Gathering {
        let round: Int
        /// Neighbours yet to call, and what came from those that did (checked, not yet mixed).
        var expected: Set<String>
        var received: [String: WireBytes] = [:]
        /// The answer to each: this peer's whole model at the round's start, as wire bytes.
        let mine: [UInt8]
        let parameterCount: Int
        let token: UInt64
        let continuation: CheckedContinuation<[String: WireBytes], Never>
    }

    private struct State {
        var phase = Phase.away
        /// The round the loop is in (or last was), and the last round whose exchange is over
        /// (done, missed or sent by this peer): requests up to it come too late.
        var round = -1
        var settled = -1
        /// Wakes the parked loop when its partner never comes; cancelled when it does.
        var timer: Task<Void, Never>?
        /// Requests that came and were turned away (round, sender): the loop does not wait for them.
        var abandoned: Set<Abandoned> = []
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
            state.abandoned = state.abandoned.filter { $0.round >= round }
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
                if state.abandoned.contains(Abandoned(round: round, sender: partner)) {
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
            parked(token: token, waking: woken, timeout: timeout)
        }
    }

    /// This peer sends round `round`'s request itself: requests for it are refused.
    func settle(round: Int) {
        state.withLock { state in
            state.round = round
            state.settled = max(state.settled, round)
        }
    }

    /// Parks at ring round `round` until each of `neighbours` has called (each answered with
    /// `mine`, our model's bytes) or `timeout` passes; returns what came, checked, for the loop
    /// to mix. The model is not touched here.
    func gather(round: Int, from neighbours: Set<String>, mine: [UInt8], parameterCount: Int, timeout: Duration) async -> [String: WireBytes] {
        guard !neighbours.isEmpty else {
            settle(round: round)
            return [:]
        }
        return await withCheckedContinuation { (continuation: CheckedContinuation<[String: WireBytes], Never>) in
            let (token, woken) = state.withLock { state -> (UInt64?, [CheckedContinuation<Void, Never>]) in
                state.round = round
                state.nextToken += 1
                // Neighbours that already came and were turned away do not come again.
                let expected = neighbours.filter { !state.abandoned.contains(Abandoned(round: round, sender: $0)) }
                guard !expected.isEmpty else {
                    state.phase = .busy
                    state.settled = round
                    return (nil, [])
                }
                state.phase = .gathering(Gathering(round: round, expected: expected, mine: mine, parameterCount: parameterCount,
                                                   token: state.nextToken, continuation: continuation))
                defer { state.early = [:] }
                return (state.nextToken, Array(state.early.values))
            }
            guard let token else {
                continuation.resume(returning: [:])
                return
            }
            parked(token: token, waking: woken, timeout: timeout)
        }
    }

    /// The loop is parked under `token`: wake the requests that came early, and give up on the
    /// partners after `timeout`.
    private func parked(token: UInt64, waking early: [CheckedContinuation<Void, Never>], timeout: Duration) {
        for continuation in early { continuation.resume() }
        let timer = Task { [self] in
            try? await Task.sleep(for: timeout)
            if !Task.isCancelled { expire(token: token) }
        }
        state.withLock { $0.timer = timer }
    }

    private func expire(token: UInt64) {
        enum Expired { case pair(CheckedContinuation<Outcome, Never>), ring(CheckedContinuation<[String: WireBytes], Never>, [String: WireBytes]) }
        let expired = state.withLock { state -> Expired? in
            switch state.phase {
            case .waiting(let round, _, _, let waiting, let continuation) where waiting == token:
                state.phase = .busy
                state.settled = round
                return .pair(continuation)
            case .gathering(let gathering) where gathering.token == token:
                state.phase = .busy
                state.settled = gathering.round
                return .ring(gathering.continuation, gathering.received)
            default:
                return nil
            }
        }
        switch expired {
        case .pair(let continuation): continuation.resume(returning: .missed)
        case .ring(let continuation, let received): continuation.resume(returning: received)
        case nil: break
        }
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
                    state.abandoned.insert(Abandoned(round: round, sender: sender))
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
                case .gathering(var gathering) where gathering.round == round:
                    guard gathering.expected.contains(sender) else {
                        throw RPCError(.failedPrecondition, gathering.received[sender] == nil
                            ? "\(sender) is not a neighbour this peer waits for in round \(round)"
                            : "\(sender) already exchanged round \(round)")
                    }
                    do {
                        try partnerBytes.withUnsafeBytes { raw in try DenseMixing.check(raw, parameterCount: gathering.parameterCount) }
                    } catch {
                        throw RPCError(.invalidArgument, "round \(round) from \(sender): \(error); the model is untouched")
                    }
                    gathering.expected.remove(sender)
                    gathering.received[sender] = partnerBytes
                    guard gathering.expected.isEmpty else {
                        state.phase = .gathering(gathering)
                        return .answer(gathering.mine)
                    }
                    state.phase = .busy
                    state.settled = round
                    state.timer?.cancel()
                    state.timer = nil
                    return .gathered(gathering.mine, gathering.continuation, gathering.received)
                default:
                    if round < state.round || round <= state.settled {
                        throw RPCError(.failedPrecondition, "round \(round) has passed here (this peer is in round \(state.round))")
                    }
                    guard ContinuousClock.now < deadline else {
                        state.abandoned.insert(Abandoned(round: round, sender: sender))
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
            case .answer(let mine):
                return mine
            case .gathered(let mine, let continuation, let received):
                continuation.resume(returning: received)
                return mine
            case .wait(let token):
                await waitForMove(token: token, until: deadline)
            }
        }
    }

    private enum Attempt {
        case done([UInt8], CheckedContinuation<Outcome, Never>)
        /// A ring neighbour answered; others are still expected.
        case answer([UInt8])
        /// The last expected ring neighbour: the loop goes on with everything gathered.
        case gathered([UInt8], CheckedContinuation<[String: WireBytes], Never>, [String: WireBytes])
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
                case .gathering(let gathering): return (model.parameters, gathering.round)
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
    // The loop writes only while the ExchangePoint is neither `waiting` nor `gathering` (no handler
    // touches the values then); handlers read and write only under its lock while it is one of them
    // (while `gathering` they only read, and so may the loop).
    var parameters: [Float]
    init(parameters: [Float]) { self.parameters = parameters }
}
