@testable import GossipWire
import Testing

/// Large bytes fields stay where protobuf-c unpacked them (no copy into a Swift array), and
/// the adopted blocks outlive the tree and are reused without being freed twice.
@Suite("Adopted bytes fields")
struct WireBytesTests {
    @Test func aLargeFieldIsAdoptedAndReadsTheSameBytes() throws {
        let body = LargePayloadTests.marked(1 << 20)
        let request = GRPCTesting.SimpleRequest(responseSize: 7, payload: GRPCTesting.Payload(body: body))
        let decoded = try GRPCTesting.SimpleRequest(decoding: request.encode())
        let payload = try #require(decoded.payload)
        #expect(payload.body.isAdopted)
        #expect(Array(payload.body) == body)
        #expect(decoded == request)
        // Re-encoding reads the adopted block in place.
        #expect(decoded.encode() == request.encode())
    }

    @Test func aSmallFieldIsAnArray() throws {
        let values = GossipV1.ModelValues(runId: "r", values: [1, 2, 3, 4])
        let decoded = try GossipV1.ModelValues(decoding: values.encode())
        #expect(!decoded.values.isAdopted)
        #expect(decoded == values)
    }

    @Test func modelValuesAndChunksAreAdopted() throws {
        let bytes = LargePayloadTests.marked(64 * 1024 + 4)
        let values = try GossipV1.ModelValues(decoding: GossipV1.ModelValues(runId: "r", values: bytes).encode())
        let chunk = try GossipV1.ModelChunk(decoding: GossipV1.ModelChunk(values: bytes).encode())
        #expect(values.values.isAdopted && chunk.values.isAdopted)
        #expect(Array(values.values) == bytes && Array(chunk.values) == bytes)
    }

    /// Blocks go back to the cache when the last value holding them goes, and come out of it
    /// for the next decode: a block freed twice or handed out while held would show up here
    /// as a crash or as bytes of another message.
    @Test func adoptedBlocksAreReusedSafely() throws {
        var kept: [GRPCTesting.Payload] = []
        for round in 0..<40 {
            var body = LargePayloadTests.marked(200_000 + round * 1000)
            body[100] = UInt8(round)
            let decoded = try GRPCTesting.Payload(decoding: GRPCTesting.Payload(body: body).encode())
            #expect(decoded.body.isAdopted)
            #expect(decoded.body[100] == UInt8(round) && decoded.body.count == body.count)
            if round % 3 == 0 { kept.append(decoded) }
        }
        for (i, payload) in kept.enumerated() {
            #expect(payload.body[100] == UInt8(i * 3))
            #expect(payload.body.count == 200_000 + i * 3 * 1000)
        }
    }

    @Test func equalityAndHashingIgnoreWhereTheBytesLive() throws {
        let bytes = LargePayloadTests.marked(8192)
        let adopted = try GRPCTesting.Payload(decoding: GRPCTesting.Payload(body: bytes).encode()).body
        let array = WireBytes(bytes)
        #expect(adopted.isAdopted && !array.isAdopted)
        #expect(adopted == array)
        #expect(adopted.hashValue == array.hashValue)
        #expect(adopted != WireBytes(bytes.dropLast()))
    }
}
