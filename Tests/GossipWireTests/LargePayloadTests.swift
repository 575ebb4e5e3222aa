@testable import GossipWire
import Testing

/// Payloads the interop suite and model exchange push through (16 MiB).
@Suite("Large payloads")
struct LargePayloadTests {
    static let size = 16 * 1024 * 1024

    /// Mostly zeros, with marks at both ends and the middle so an offset or
    /// truncation bug cannot go unnoticed.
    static func marked(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        for (i, index) in [0, 1, count / 2, count - 2, count - 1].enumerated() { bytes[index] = UInt8(i + 1) }
        return bytes
    }

    @Test func sixteenMiBNestedPayload() throws {
        let request = GRPCTesting.SimpleRequest(
            responseSize: Int32(Self.size), payload: GRPCTesting.Payload(body: Self.marked(Self.size)))
        let encoded = request.encode()
        // tag+len of SimpleRequest.payload, then of Payload.body (4-byte lengths)
        #expect(encoded.count == 5 + 5 + 5 + Self.size)
        let same = try GRPCTesting.SimpleRequest(decoding: encoded) == request
        #expect(same)
    }

    @Test func sixteenMiBTopLevelBytes() throws {
        let probe = GossipV1.ProbeRequest(senderId: "n1", payload: Self.marked(Self.size))
        let same = try roundTrip(probe) == probe
        #expect(same)
    }

    @Test func sixteenMiBOfFloats() throws {
        var scales = [Float](repeating: 0.5, count: Self.size / 4)
        scales[scales.count - 1] = -3
        let model = GossipV1.ModelValues(round: 1, scales: scales)
        let same = try roundTrip(model) == model
        #expect(same)
    }

    /// Many large fields in one message: the first `maxPins` are pinned, the
    /// rest copied.
    @Test func manyLargeEntries() throws {
        let entries = (0..<CArena.maxPins + 16).map {
            RaftV1.Entry(index: UInt64($0), data: Self.marked(256 * 1024 + $0))
        }
        let request = RaftV1.AppendEntriesRequest(entries: entries)
        let same = try roundTrip(request) == request
        #expect(same)
    }

    @Test(arguments: [CArena.pinThreshold - 1, CArena.pinThreshold, CArena.pinThreshold + 1])
    func aroundThePinThreshold(_ count: Int) throws {
        try expectRoundTrip(GRPCTesting.Payload(body: Self.marked(count)))
        try expectRoundTrip(GossipV1.ModelValues(values: Self.marked(count), scales: [Float](repeating: 1.5, count: count / 4)))
        try expectRoundTrip(GossipV1.ModelChunk(values: Self.marked(count)))
    }
}
