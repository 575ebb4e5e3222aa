import Durable
import Consensus

// Write-ahead log format, version 1. All integers are little-endian.
//
// The WAL is a run of segment files named `wal-<sequence, 16 hex digits>.log`, replayed in
// sequence order. A segment is a sequence of records, each framed as:
//
//     offset  size  field
//     0       4     CRC32C (Castagnoli) of bytes 4 ..< 12 + length (the rest of the header and the payload)
//     4       4     payload length
//     8       2     magic "RW" (0x52 0x57)
//     10      1     record type
//     11      1     flags, 0
//     12      n     payload
//
// Record types and their payloads:
//
//     1  segment header  first record of every segment and nowhere else:
//                        version u32 (= 1), kind u8 (0 = continuation, 1 = checkpoint),
//                        sequence u64 (matches the file name), base index u64, base term u64
//     2  hard state      term u64, commit u64, has vote u8 (0 or 1), vote: UTF-8, rest of payload
//     3  entry           term u64, index u64, kind u8 (Entry.Kind raw value), data: rest of payload
//
// Replay rules:
// - A checkpoint segment holds the whole log state after a snapshot at (base index, base term):
//   its hard state and every entry after the base. Recovery starts at the newest checkpoint;
//   older segments are leftovers of an interrupted compaction. A checkpoint is written to a
//   temporary name and renamed, so it is never torn. Continuation segments (size rotation)
//   carry base 0 and simply extend the log.
// - An entry whose index is at most the last replayed index first truncates the log from that
//   index (the Raft conflict overwrite), so there is no separate truncate record.
// - The last hard state record wins.
// - Only the tail of the newest segment may be torn by a crash: a damaged record there with no
//   valid record anywhere after it is cut off. Damage anywhere else is an error.

enum WALFormat {
    static let version: UInt32 = 1
    static let headerSize = 12
    static let magic: (UInt8, UInt8) = (0x52, 0x57)
    /// Bounds a record so a damaged length field cannot ask for gigabytes.
    static let maxPayloadSize = 1 << 30

    enum RecordType: UInt8 {
        case segmentHeader = 1
        case hardState = 2
        case entry = 3
    }
}

/// The first record of a segment.
struct SegmentHeader: Equatable {
    enum Kind: UInt8 {
        case continuation = 0
        case checkpoint = 1
    }

    var kind: Kind
    var sequence: UInt64
    /// For a checkpoint: the snapshot the log continues from (0, 0 when there is none).
    var baseIndex: UInt64
    var baseTerm: UInt64
}

enum WALRecord: Equatable {
    case segmentHeader(SegmentHeader)
    case hardState(HardState)
    case entry(Entry)
}

// MARK: Encoding

extension WALFormat {
    /// Appends one framed record to `buffer`.
    static func append(_ record: WALRecord, to buffer: inout [UInt8]) {
        let start = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: 8))  // checksum and length, filled in below
        buffer.append(magic.0)
        buffer.append(magic.1)
        switch record {
        case .segmentHeader(let header):
            buffer.append(RecordType.segmentHeader.rawValue)
            buffer.append(0)
            buffer.appendLittleEndian(version)
            buffer.appendLittleEndian(header.kind.rawValue)
            buffer.appendLittleEndian(header.sequence)
            buffer.appendLittleEndian(header.baseIndex)
            buffer.appendLittleEndian(header.baseTerm)
        case .hardState(let state):
            buffer.append(RecordType.hardState.rawValue)
            buffer.append(0)
            buffer.appendLittleEndian(state.term)
            buffer.appendLittleEndian(state.commit)
            if let vote = state.votedFor {
                buffer.appendLittleEndian(UInt8(1))
                buffer.append(contentsOf: vote.utf8)
            } else {
                buffer.appendLittleEndian(UInt8(0))
            }
        case .entry(let entry):
            buffer.append(RecordType.entry.rawValue)
            buffer.append(0)
            buffer.appendLittleEndian(entry.term)
            buffer.appendLittleEndian(entry.index)
            buffer.appendLittleEndian(entry.kind.rawValue)
            buffer.append(contentsOf: entry.data)
        }
        let payloadLength = buffer.count - start - headerSize
        buffer.overwriteLittleEndian(UInt32(payloadLength), at: start + 4)
        let checksum = buffer.withUnsafeBytes { CRC32C.update(0, UnsafeRawBufferPointer(rebasing: $0[(start + 4)...])) }
        buffer.overwriteLittleEndian(checksum, at: start)
    }

    static func encodedSize(of entry: Entry) -> Int { headerSize + 17 + entry.data.count }
}

// MARK: Decoding

extension WALFormat {
    enum Frame {
        /// A record whose frame and checksum are intact.
        case intact(type: UInt8, flags: UInt8, payload: Range<Int>, next: Int)
        /// Not a valid record: a torn write, or corruption.
        case damaged(reason: String)
    }

    /// The record framed at `offset` in `bytes`, checked for length, magic and checksum only.
    static func frame(in bytes: UnsafeRawBufferPointer, at offset: Int) -> Frame {
        let available = bytes.count - offset
        guard available >= headerSize else {
            return .damaged(reason: "incomplete record header (\(available) of \(headerSize) bytes)")
        }
        guard bytes[offset + 8] == magic.0, bytes[offset + 9] == magic.1 else {
            return .damaged(reason: "bad record magic")
        }
        let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)))
        guard length <= maxPayloadSize else {
            return .damaged(reason: "record length \(length) exceeds the \(maxPayloadSize)-byte limit")
        }
        guard length <= available - headerSize else {
            return .damaged(reason: "record of \(length) payload bytes extends past the end of the file")
        }
        let stored = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        let end = offset + headerSize + length
        let computed = CRC32C.update(0, UnsafeRawBufferPointer(rebasing: bytes[(offset + 4)..<end]))
        guard stored == computed else {
            return .damaged(reason: "checksum mismatch (stored \(hex(stored)), computed \(hex(computed)))")
        }
        return .intact(type: bytes[offset + 10], flags: bytes[offset + 11], payload: (offset + headerSize)..<end, next: end)
    }

    /// Decodes a record whose frame is intact. Throws when the checksum matched but the content
    /// does not make sense: that is never a torn write.
    static func decode(type: UInt8, flags: UInt8, payload: UnsafeRawBufferPointer) throws(MalformedBytes) -> WALRecord {
        guard flags == 0 else { throw MalformedBytes(reason: "unknown record flags \(flags)") }
        var reader = ByteReader(payload)
        switch RecordType(rawValue: type) {
        case .segmentHeader:
            let version = try reader.readUInt32()
            guard version == Self.version else {
                throw MalformedBytes(reason: "unsupported WAL version \(version) (this build reads \(Self.version))")
            }
            let rawKind = try reader.readUInt8()
            guard let kind = SegmentHeader.Kind(rawValue: rawKind) else {
                throw MalformedBytes(reason: "unknown segment kind \(rawKind)")
            }
            let header = SegmentHeader(kind: kind, sequence: try reader.readUInt64(),
                                       baseIndex: try reader.readUInt64(), baseTerm: try reader.readUInt64())
            try reader.expectEnd()
            return .segmentHeader(header)
        case .hardState:
            let term = try reader.readUInt64()
            let commit = try reader.readUInt64()
            let hasVote = try reader.readUInt8()
            let vote: String?
            switch hasVote {
            case 0:
                try reader.expectEnd()
                vote = nil
            case 1:
                vote = try ByteReader.utf8String(reader.readRest())
            default:
                throw MalformedBytes(reason: "vote flag \(hasVote) is neither 0 nor 1")
            }
            return .hardState(HardState(term: term, votedFor: vote, commit: commit))
        case .entry:
            let term = try reader.readUInt64()
            let index = try reader.readUInt64()
            let rawKind = try reader.readUInt8()
            guard let kind = Entry.Kind(rawValue: rawKind) else {
                throw MalformedBytes(reason: "unknown entry kind \(rawKind)")
            }
            return .entry(Entry(term: term, index: index, kind: kind, data: reader.readRest()))
        case nil:
            throw MalformedBytes(reason: "unknown record type \(type)")
        }
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}
