import Durable
import Consensus
import Testing
@testable import RaftStorage

@Suite struct WALFormatTests {
    /// Pins the documented layout: a format change must be deliberate (and versioned).
    @Test func hardStateRecordBytesMatchTheDocumentedLayout() {
        var bytes: [UInt8] = []
        WALFormat.append(.hardState(HardState(term: 5, votedFor: "n2", commit: 0x0102)), to: &bytes)
        let payload: [UInt8] = [5, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x01, 0, 0, 0, 0, 0, 0, 1, 0x6E, 0x32]
        #expect(Array(bytes[4..<8]) == [UInt8(payload.count), 0, 0, 0])
        #expect(Array(bytes[8..<12]) == [0x52, 0x57, 2, 0])
        #expect(Array(bytes[12...]) == payload)
        let checksum = CRC32C.checksum(Array(bytes[4...]))
        #expect(Array(bytes[0..<4]) == [UInt8(checksum & 0xFF), UInt8((checksum >> 8) & 0xFF),
                                        UInt8((checksum >> 16) & 0xFF), UInt8(checksum >> 24)])
    }

    @Test(arguments: [
        WALRecord.segmentHeader(SegmentHeader(kind: .checkpoint, sequence: 7, baseIndex: 100, baseTerm: 3)),
        .segmentHeader(SegmentHeader(kind: .continuation, sequence: 8, baseIndex: 0, baseTerm: 0)),
        .hardState(HardState()),
        .hardState(HardState(term: 9, votedFor: "nœud-ü", commit: 77)),
        .hardState(HardState(term: 9, votedFor: "", commit: 77)),
        .entry(Entry(term: 4, index: 12, kind: .configChange, data: [1, 2, 3])),
        .entry(Entry(term: 4, index: 13, kind: .noop)),
    ])
    func recordsRoundTrip(record: WALRecord) throws {
        var bytes: [UInt8] = []
        WALFormat.append(record, to: &bytes)
        let scan = try WALReader.scan(bytes, file: "test")
        #expect(scan.damage == nil)
        #expect(scan.records.map(\.record) == [record])
        #expect(scan.validLength == bytes.count)
    }

    /// A record with a correct checksum but content this version cannot read is never taken
    /// for a torn write.
    @Test func intactButUndecodableRecordThrows() {
        var bytes: [UInt8] = []
        WALFormat.append(.entry(Entry(term: 1, index: 1)), to: &bytes)
        bytes[10] = 9  // unknown record type
        let checksum = CRC32C.checksum(Array(bytes[4...]))
        bytes.overwriteLittleEndian(checksum, at: 0)
        #expect(throws: RaftStorageError.corruptWAL(file: "seg", offset: 0,
                                                    reason: "checksum matches but the record does not decode: unknown record type 9")) {
            try WALReader.scan(bytes, file: "seg")
        }
    }

    @Test func snapshotFileRoundTripsAndDetectsDamage() throws {
        let snapshot = makeSnapshot(index: 42, term: 6, payload: String(repeating: "x", count: 1000))
        let bytes = SnapshotFiles.encode(snapshot)
        #expect(try SnapshotFiles.decode(bytes) == snapshot)
        #expect(SnapshotFiles.encode(snapshot) == bytes, "encoding is deterministic")
        for position in [0, 9, 13, 20, 40, bytes.count - 1] {
            var damaged = bytes
            damaged[position] ^= 0x10
            #expect(throws: MalformedBytes.self, "byte \(position)") { try SnapshotFiles.decode(damaged) }
        }
        #expect(throws: MalformedBytes.self) { try SnapshotFiles.decode(Array(bytes.dropLast())) }
    }
}
