import Durable
import GossipWire

/// A whole model as `gossip.v1.ModelChunk`s (FetchModel's stream) and back. Chunks stay under the
/// 1 MiB that every receive limit allows; the last carries the CRC32C of the whole vector's bytes.
public enum ModelTransfer {
    /// Values per chunk when the requester leaves it to us, and the most it may ask for.
    public static let defaultChunkValues = 65_536
    public static let maxChunkValues = 262_144

    public static func chunks(of values: [Float], run: String, round: UInt64, architecture: String,
                              chunkValues requested: Int = 0) -> [GossipV1.ModelChunk] {
        let size = requested <= 0 ? defaultChunkValues : min(requested, maxChunkValues)
        let bytes = littleEndianBytes(values)
        let crc = CRC32C.checksum(bytes)
        var chunks: [GossipV1.ModelChunk] = []
        var offset = 0
        repeat {
            let end = min(offset + size, values.count)
            chunks.append(GossipV1.ModelChunk(runId: run, round: round, architecture: architecture, totalValues: UInt64(values.count),
                                              offset: UInt64(offset), values: Array(bytes[(offset * 4)..<(end * 4)]),
                                              crc32c: end == values.count ? crc : 0))
            offset = end
        } while offset < values.count
        return chunks
    }

    static func littleEndianBytes(_ values: [Float]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: values.count * 4)
        bytes.withUnsafeMutableBytes { raw in
            for (i, value) in values.enumerated() { raw.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: i * 4, as: UInt32.self) }
        }
        return bytes
    }
}

public struct ModelTransferError: Error, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Receives a FetchModel stream: chunks must be of the expected run and architecture, agree on
/// round and length, arrive in order without gaps, hold finite values, and end with the
/// matching checksum. Nothing is handed over before all of that holds.
public struct ModelAssembler {
    public let run: String
    public let architecture: String
    public let expectedValues: Int
    private var bytes: [UInt8] = []
    private var round: UInt64?

    public init(run: String, architecture: String, expectedValues: Int) {
        self.run = run
        self.architecture = architecture
        self.expectedValues = expectedValues
        bytes.reserveCapacity(expectedValues * 4)
    }

    /// Adds a chunk; returns the model and its round once the last one has arrived and checked out.
    public mutating func add(_ chunk: GossipV1.ModelChunk) throws(ModelTransferError) -> (values: [Float], round: UInt64)? {
        guard chunk.runId == run else { throw ModelTransferError("chunk of run \(chunk.runId.debugDescription), not \(run.debugDescription)") }
        guard chunk.architecture == architecture, chunk.totalValues == UInt64(expectedValues) else {
            throw ModelTransferError("chunk of a \(chunk.architecture) model of \(chunk.totalValues) values, not \(architecture) of \(expectedValues)")
        }
        guard round == nil || round == chunk.round else { throw ModelTransferError("chunks from rounds \(round!) and \(chunk.round)") }
        round = chunk.round
        guard chunk.offset == UInt64(bytes.count / 4) else {
            throw ModelTransferError("chunk at value \(chunk.offset), expected \(bytes.count / 4): out of order or missing")
        }
        guard chunk.values.count % 4 == 0, bytes.count + chunk.values.count <= expectedValues * 4 else {
            throw ModelTransferError("chunk of \(chunk.values.count) bytes does not fit a model of \(expectedValues) float32 values")
        }
        bytes += chunk.values
        guard bytes.count == expectedValues * 4 else { return nil }
        guard CRC32C.checksum(bytes) == chunk.crc32c else { throw ModelTransferError("the model's checksum does not match: corrupt transfer") }
        let values = bytes.withUnsafeBytes { raw in
            (0..<expectedValues).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
        if let bad = values.firstIndex(where: { !$0.isFinite }) { throw ModelTransferError("value \(bad) of the model is not finite") }
        return (values, chunk.round)
    }
}
