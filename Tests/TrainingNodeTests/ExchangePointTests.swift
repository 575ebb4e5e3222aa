import Gossip
import GossipRPC
import GossipWire
import Testing
@testable import TrainingNode

/// The meeting point of a training loop and its partner's request, without sockets.
@Suite(.timeLimit(.minutes(1))) struct ExchangePointTests {
    static func bytes(_ values: [Float]) -> WireBytes {
        WireBytes(values.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } })
    }

    @Test func aParkedLoopAveragesWithItsPartnerAndAnswersWithItsOwnValues() async throws {
        let model = ModelBox(parameters: [0, 10, 20, 30])
        let point = ExchangePoint(model: model)
        point.enter(round: 5)
        async let outcome = point.await(round: 5, partner: "n2", indices: [1, 3], timeout: .seconds(10))
        // The request may come before the loop parks: it waits for it.
        let mine = try await point.exchange(round: 5, sender: "n2", partnerBytes: Self.bytes([12, 34]), timeout: .seconds(10))
        #expect(await outcome == .exchanged(receivedBytes: 8))
        #expect(WireBytes(mine) == Self.bytes([10, 30]))
        #expect(model.parameters == [0, 11, 20, 32])
        // Round 5 is over here: a second request for it is refused.
        #expect(await statusCode { _ = try await point.exchange(round: 5, sender: "n2", partnerBytes: Self.bytes([1, 1]), timeout: .seconds(1)) }
            == .failedPrecondition)
    }

    @Test func refusalsLeaveTheModelUntouched() async throws {
        let model = ModelBox(parameters: [0, 10, 20, 30])
        let point = ExchangePoint(model: model)
        #expect(await statusCode { _ = try await point.exchange(round: 0, sender: "n2", partnerBytes: Self.bytes([1, 1]), timeout: .seconds(1)) }
            == .unavailable)
        point.enter(round: 7)
        async let outcome = point.await(round: 7, partner: "n2", indices: [0, 2], timeout: .seconds(2))
        try await Task.sleep(for: .milliseconds(50))
        #expect(await statusCode { _ = try await point.exchange(round: 7, sender: "n3", partnerBytes: Self.bytes([1, 1]), timeout: .seconds(1)) }
            == .failedPrecondition)
        #expect(await statusCode { _ = try await point.exchange(round: 7, sender: "n2", partnerBytes: Self.bytes([1, .nan]), timeout: .seconds(1)) }
            == .invalidArgument)
        #expect(await statusCode { _ = try await point.exchange(round: 7, sender: "n2", partnerBytes: Self.bytes([1]), timeout: .seconds(1)) }
            == .invalidArgument)
        #expect(await statusCode { _ = try await point.exchange(round: 6, sender: "n2", partnerBytes: Self.bytes([1, 1]), timeout: .seconds(1)) }
            == .failedPrecondition)
        #expect(model.parameters == [0, 10, 20, 30])
        // Still parked: the right request completes it.
        _ = try await point.exchange(round: 7, sender: "n2", partnerBytes: Self.bytes([2, 4]), timeout: .seconds(1))
        #expect(await outcome == .exchanged(receivedBytes: 8))
        #expect(model.parameters == [1, 10, 12, 30])
    }

    @Test func aPartnerThatNeverComesIsMissedAndALateOneRefused() async throws {
        let model = ModelBox(parameters: [1, 2])
        let point = ExchangePoint(model: model)
        point.enter(round: 3)
        let clock = ContinuousClock()
        let start = clock.now
        #expect(await point.await(round: 3, partner: "n2", indices: [0], timeout: .milliseconds(100)) == .missed)
        #expect(clock.now - start < .seconds(5))
        #expect(await statusCode { _ = try await point.exchange(round: 3, sender: "n2", partnerBytes: Self.bytes([9]), timeout: .seconds(1)) }
            == .failedPrecondition)
        // A request for a round this peer does not reach in time is given up on both sides.
        #expect(await statusCode { _ = try await point.exchange(round: 4, sender: "n2", partnerBytes: Self.bytes([9]), timeout: .milliseconds(50)) }
            == .deadlineExceeded)
        point.enter(round: 4)
        #expect(await point.await(round: 4, partner: "n2", indices: [0], timeout: .seconds(10)) == .missed)
        #expect(model.parameters == [1, 2])
    }

    /// A ring round: both neighbours that call are answered with the round's model bytes and
    /// their values handed to the loop unmixed; the model itself is not touched.
    @Test func aRingRoundGathersEveryCallingNeighbour() async throws {
        let model = ModelBox(parameters: [1, 2, 3])
        let point = ExchangePoint(model: model)
        point.enter(round: 4)
        let mine = DenseMixing.bytes(of: [1, 2, 3])
        async let gathered = point.gather(round: 4, from: ["a", "b"], mine: mine, parameterCount: 3, timeout: .seconds(10))
        // An early caller waits for the loop to park.
        let answerA = try await point.exchange(round: 4, sender: "a", partnerBytes: Self.bytes([4, 5, 6]), timeout: .seconds(10))
        #expect(Array(answerA) == mine)
        for (sender, bytes, code) in [("a", Self.bytes([4, 5, 6]), StatusCode.failedPrecondition),  // once only
                                      ("c", Self.bytes([4, 5, 6]), .failedPrecondition),  // not a neighbour that calls
                                      ("b", Self.bytes([4, .nan, 6]), .invalidArgument),
                                      ("b", Self.bytes([4, 5]), .invalidArgument)] {
            #expect(await statusCode { _ = try await point.exchange(round: 4, sender: sender, partnerBytes: bytes, timeout: .seconds(1)) } == code)
        }
        let answerB = try await point.exchange(round: 4, sender: "b", partnerBytes: Self.bytes([7, 8, 9]), timeout: .seconds(1))
        #expect(Array(answerB) == mine)
        let received = await gathered
        #expect(received.keys.sorted() == ["a", "b"] && received["a"] == Self.bytes([4, 5, 6]) && received["b"] == Self.bytes([7, 8, 9]))
        #expect(model.parameters == [1, 2, 3])
        #expect(await statusCode { _ = try await point.exchange(round: 4, sender: "b", partnerBytes: Self.bytes([1, 1, 1]), timeout: .seconds(1)) }
            == .failedPrecondition)
    }

    /// A neighbour that never calls: the loop goes on with what came, when the timeout passes.
    @Test func aRingRoundEndsWithWhatCameInTime() async throws {
        let point = ExchangePoint(model: ModelBox(parameters: [1, 2]))
        point.enter(round: 2)
        let mine = DenseMixing.bytes(of: [1, 2])
        async let gathered = point.gather(round: 2, from: ["a", "b"], mine: mine, parameterCount: 2, timeout: .milliseconds(300))
        _ = try await point.exchange(round: 2, sender: "b", partnerBytes: Self.bytes([3, 3]), timeout: .seconds(5))
        #expect(await gathered.keys.sorted() == ["b"])
        #expect(await statusCode { _ = try await point.exchange(round: 2, sender: "a", partnerBytes: Self.bytes([3, 3]), timeout: .seconds(1)) }
            == .failedPrecondition)
        // Nobody to wait for: the round is settled at once.
        point.enter(round: 3)
        #expect(await point.gather(round: 3, from: [], mine: mine, parameterCount: 2, timeout: .seconds(10)).isEmpty)
        // A neighbour that gave up on a round before this peer reached it is not waited for; the other is.
        #expect(await statusCode { _ = try await point.exchange(round: 4, sender: "a", partnerBytes: Self.bytes([3, 3]), timeout: .milliseconds(50)) }
            == .deadlineExceeded)
        point.enter(round: 4)
        async let fourth = point.gather(round: 4, from: ["a", "b"], mine: mine, parameterCount: 2, timeout: .seconds(10))
        _ = try await point.exchange(round: 4, sender: "b", partnerBytes: Self.bytes([5, 5]), timeout: .seconds(5))
        #expect(await fourth.keys.sorted() == ["b"])
        #expect(await statusCode { _ = try await point.exchange(round: 5, sender: "a", partnerBytes: Self.bytes([3, 3]), timeout: .milliseconds(50)) }
            == .deadlineExceeded)
        point.enter(round: 5)
        let clock = ContinuousClock(), start = clock.now
        #expect(await point.gather(round: 5, from: ["a"], mine: mine, parameterCount: 2, timeout: .seconds(10)).isEmpty)
        #expect(clock.now - start < .seconds(5))
    }

    @Test func modelCopiesAreTakenWhereTheLoopDoesNotWrite() async throws {
        let model = ModelBox(parameters: [1, 2, 3])
        let point = ExchangePoint(model: model)
        point.enter(round: 9)
        async let copy = point.modelCopy()
        try await Task.sleep(for: .milliseconds(20))
        model.parameters = [4, 5, 6]
        point.serveCopies(round: 10)
        let served = await copy
        #expect(served.values == [4, 5, 6] && served.round == 10)
    }
}
