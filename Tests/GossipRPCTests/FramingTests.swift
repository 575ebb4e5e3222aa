import GossipWire
import Testing
@testable import GossipRPC

@Suite struct MessageFramingTests {
    private func deframe(_ bytes: [UInt8], chunk: Int, limit: Int = 1 << 20,
                         reservations: ReceiveReservations? = nil) throws -> [[UInt8]] {
        var deframer = MessageDeframer(maxMessageSize: limit, reservations: reservations)
        var messages: [[UInt8]] = []
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + chunk, bytes.count)
            try bytes[offset..<end].withUnsafeBytes { buffer in
                try deframer.feed(buffer) { messages.append($0.bytes) }
            }
            offset = end
        }
        #expect(deframer.isIdle)
        return messages
    }

    @Test func framePrefixIsFlagAndBigEndianLength() {
        #expect(MessageFramer.frame([7, 8, 9]) == [0, 0, 0, 0, 3, 7, 8, 9])
        #expect(MessageFramer.frame([]) == [0, 0, 0, 0, 0])
        #expect(Array(MessageFramer.frame([UInt8](repeating: 1, count: 0x01_02_03))[0..<5]) == [0, 0, 1, 2, 3])
    }

    /// Budgets: none (memory grows with what arrives), too small for the 100 KiB message (it
    /// grows, the others are sized at once), and room for all.
    @Test(arguments: [1, 2, 3, 5, 7, 64, 100_000], [nil, 2000, 1 << 20])
    func splitsMessagesAcrossAnyChunking(chunk: Int, budget: Int?) throws {
        let messages: [[UInt8]] = [[1, 2, 3], [], Array(repeating: 9, count: 1000), [42],
                                   (0..<100_000).map { UInt8(truncatingIfNeeded: $0 * 7) }]
        let stream = messages.flatMap(MessageFramer.frame)
        let reservations = budget.map(ReceiveReservations.init)
        #expect(try deframe(stream, chunk: chunk, reservations: reservations) == messages)
        #expect(reservations?.reservedBytes ?? 0 == 0)
    }

    @Test func aPartialMessageHoldsItsReservationUntilCompleteOrDropped() throws {
        let reservations = ReceiveReservations(budget: 1000)
        var deframer: MessageDeframer? = MessageDeframer(maxMessageSize: 1000, reservations: reservations)
        var got: [[UInt8]] = []
        try ([0, 0, 0, 3, 0x20, 1] as [UInt8]).withUnsafeBytes { try deframer!.feed($0) { got.append($0.bytes) } }
        #expect(reservations.reservedBytes == 800)
        // A second stream's announcement past the budget is not sized at once: nothing reserved.
        var other = MessageDeframer(maxMessageSize: 1000, reservations: reservations)
        try ([0, 0, 0, 1, 0xF4, 2] as [UInt8]).withUnsafeBytes { try other.feed($0) { got.append($0.bytes) } }
        #expect(reservations.reservedBytes == 800)
        try [UInt8](repeating: 5, count: 799).withUnsafeBytes { try deframer!.feed($0) { got.append($0.bytes) } }
        #expect(got == [[1] + [UInt8](repeating: 5, count: 799)])
        #expect(reservations.reservedBytes == 0)
        try ([0, 0, 0, 0, 9, 7] as [UInt8]).withUnsafeBytes { try deframer!.feed($0) { got.append($0.bytes) } }
        #expect(reservations.reservedBytes == 9)
        deframer = nil  // the call ended inside a message
        #expect(reservations.reservedBytes == 0)
    }

    @Test func framedMessagesMatchTheArrayFraming() {
        let request = GRPCTesting.SimpleRequest(responseSize: 5, payload: GRPCTesting.Payload(body: [UInt8](repeating: 3, count: 70_000)))
        #expect(FramedMessage(request).bytes == MessageFramer.frame(request.encode()))
        #expect(FramedMessage(GRPCTesting.Empty()).bytes == [0, 0, 0, 0, 0])
        #expect(FramedMessage(encoded: [1, 2]).bytes == [0, 0, 0, 0, 2, 1, 2])
    }

    @Test func oversizedPrefixFailsBeforeBuffering() {
        // A prefix claiming 2 GiB: refused from the five header bytes alone.
        let prefix: [UInt8] = [0, 0x7F, 0xFF, 0xFF, 0xFF, 1, 2, 3]
        #expect(throws: DeframingError.tooLarge(announced: 0x7FFF_FFFF, limit: 4 << 20)) {
            _ = try deframe(prefix, chunk: 8, limit: 4 << 20)
        }
    }

    @Test func limitIsInclusive() throws {
        #expect(try deframe(MessageFramer.frame([UInt8](repeating: 0, count: 16)), chunk: 4, limit: 16).count == 1)
        #expect(throws: DeframingError.tooLarge(announced: 17, limit: 16)) {
            _ = try deframe(MessageFramer.frame([UInt8](repeating: 0, count: 17)), chunk: 4, limit: 16)
        }
    }

    @Test func compressedFlagWithoutEncodingIsRejected() {
        #expect(throws: DeframingError.compressedWithoutEncoding) {
            _ = try deframe([1, 0, 0, 0, 1, 0], chunk: 6)
        }
    }

    @Test func unknownFlagIsRejected() {
        #expect(throws: DeframingError.invalidFlag(7)) {
            _ = try deframe([7, 0, 0, 0, 0], chunk: 5)
        }
    }

    @Test func partialMessageLeavesDeframerBusy() throws {
        var deframer = MessageDeframer(maxMessageSize: 100)
        var count = 0
        let bytes: [UInt8] = [0, 0, 0, 0, 4, 1]
        try bytes.withUnsafeBytes { try deframer.feed($0) { _ in count += 1 } }
        #expect(count == 0)
        #expect(!deframer.isIdle)
    }
}

@Suite struct AsyncMessageQueueTests {
    @Test func deliversInOrderThenEnds() async throws {
        let queue = AsyncMessageQueue<Int>()
        queue.yield(1)
        queue.yield(2)
        queue.finish()
        queue.yield(3)  // after the end: dropped
        #expect(try await queue.next() == 1)
        #expect(try await queue.next() == 2)
        #expect(try await queue.next() == nil)
        #expect(try await queue.next() == nil)
    }

    @Test func waitingConsumerIsWoken() async throws {
        let queue = AsyncMessageQueue<Int>()
        async let value = queue.next()
        try await Task.sleep(for: .milliseconds(20))
        queue.yield(5)
        #expect(try await value == 5)
    }

    @Test func failureComesAfterBufferedElements() async throws {
        let queue = AsyncMessageQueue<Int>()
        queue.yield(1)
        queue.fail(RPCError(.aborted, "x"))
        #expect(try await queue.next() == 1)
        await #expect(throws: RPCError(.aborted, "x")) { try await queue.next() }
    }

    @Test func cancellingTheConsumerThrows() async throws {
        let queue = AsyncMessageQueue<Int>()
        let task = Task { try await queue.next() }
        try await Task.sleep(for: .milliseconds(20))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
    }
}
