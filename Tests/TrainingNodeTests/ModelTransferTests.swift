import GossipWire
import Testing
@testable import TrainingNode

@Suite struct ModelTransferTests {
    static let model = (0..<150_001).map { Float($0) * 1e-3 - 7 }

    @Test func aModelCrossesInChunksUnderOneMebibyte() throws {
        let chunks = ModelTransfer.chunks(of: Self.model, run: "r", round: 40, architecture: "mlp", chunkValues: 1 << 20)
        #expect(chunks.count == 1 && chunks[0].values.count == Self.model.count * 4)
        let small = ModelTransfer.chunks(of: Self.model, run: "r", round: 40, architecture: "mlp", chunkValues: 50_000)
        #expect(small.count == 4 && small.allSatisfy { $0.encode().count < 1 << 20 } && small.dropLast().allSatisfy { $0.crc32c == 0 })
        var assembler = ModelAssembler(run: "r", architecture: "mlp", expectedValues: Self.model.count)
        var result: (values: [Float], round: UInt64)?
        for chunk in small { result = try assembler.add(GossipV1.ModelChunk(decoding: chunk.encode())) }
        #expect(result?.values == Self.model && result?.round == 40)
        #expect(ModelTransfer.chunks(of: [], run: "r", round: 0, architecture: "mlp").count == 1)
    }

    @Test func badStreamsAreRefusedWithTheReason() {
        let chunks = ModelTransfer.chunks(of: Self.model, run: "r", round: 40, architecture: "mlp", chunkValues: 50_000)
        func feed(_ stream: [GossipV1.ModelChunk], run: String = "r", values: Int = Self.model.count) throws(ModelTransferError) {
            var assembler = ModelAssembler(run: run, architecture: "mlp", expectedValues: values)
            for chunk in stream { _ = try assembler.add(chunk) }
        }
        var corrupt = chunks
        var flipped = Array(corrupt[2].values)
        flipped[17] ^= 1
        corrupt[2].values = WireBytes(flipped)
        var otherRound = chunks
        otherRound[1].round = 41
        var nan = chunks
        nan[0].values = WireBytes([0, 0, 0xC0, 0x7F] + nan[0].values.dropFirst(4))
        nan[3].crc32c = 0
        let cases: [([GossipV1.ModelChunk], String, String, Int)] = [
            (corrupt, "r", "checksum", Self.model.count),
            ([chunks[0], chunks[2]], "r", "out of order or missing", Self.model.count),
            (otherRound, "r", "rounds 40 and 41", Self.model.count),
            (chunks, "q", "run \"r\"", Self.model.count),
            (chunks, "r", "of 150001 values", 10),
            (nan, "r", "checksum", Self.model.count),
        ]
        for (stream, run, message, values) in cases {
            #expect { try feed(stream, run: run, values: values) } throws: { "\($0)".contains(message) }
        }
        // A NaN that travels with a matching checksum is still refused.
        var poisoned = Self.model
        poisoned[5] = .nan
        #expect { try feed(ModelTransfer.chunks(of: poisoned, run: "r", round: 1, architecture: "mlp")) } throws: { "\($0)".contains("value 5") }
    }
}
