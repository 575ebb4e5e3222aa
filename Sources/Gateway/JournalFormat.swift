import Durable
/// The registry journal's file format, as pure functions over bytes.
///
/// A file is a run of frames, one per group commit (one fdatasync):
///   magic u32 | payload length u32 | CRC-32C u32 of the length and payload | payload
/// and a payload is a run of records, each a u32 length and a
/// `RegistryDeltaCodec` record. All integers little-endian.
///
/// Frames are written one after another, each only after the previous one
/// was synced. So after a crash only the last frame can be damaged: a bad
/// frame with no valid frame after it is a torn tail (never acknowledged,
/// dropped); a bad frame followed by a valid one is corruption of synced data.
/// The writer fills the file with zeros ahead of the frames, so a run of
/// zeros to the end of the file is its clean end.
enum JournalFormat {
    static let magic: UInt32 = 0x4C4E_524A  // "JRNL" read little-endian
    static let headerSize = 12
    /// Far above any real batch; a length beyond this is damage, not data.
    static let maxPayload = 256 << 20

    enum End: Equatable {
        case clean
        /// The last frame, from this offset on, is incomplete or fails its checksum.
        case tornTail(offset: Int)
        /// A damaged frame at this offset, with a valid one after it.
        case corrupt(offset: Int, reason: String)
    }

    struct Parsed {
        var records: [ArraySlice<UInt8>]
        var end: End
    }

    static func frame(records: [[UInt8]]) -> [UInt8] {
        let length = records.reduce(0) { $0 + 4 + $1.count }
        var out: [UInt8] = []
        out.reserveCapacity(headerSize + length)
        append32(magic, to: &out)
        append32(UInt32(length), to: &out)
        append32(0, to: &out)
        for record in records {
            append32(UInt32(record.count), to: &out)
            out.append(contentsOf: record)
        }
        let crc = out.withUnsafeBytes { raw in
            CRC32C.update(CRC32C.update(0, UnsafeRawBufferPointer(rebasing: raw[4..<8])),
                          UnsafeRawBufferPointer(rebasing: raw[headerSize...]))
        }
        withUnsafeBytes(of: crc.littleEndian) { out.replaceSubrange(8..<12, with: $0) }
        return out
    }

    static func parse(_ bytes: [UInt8]) -> Parsed {
        var records: [ArraySlice<UInt8>] = []
        var offset = 0
        while offset < bytes.count {
            switch frameAt(bytes, offset) {
            case .success(let (payload, next)):
                guard let inner = split(payload) else {
                    // A frame whose checksum holds but whose records do not parse: written wrong, not torn.
                    return Parsed(records: records, end: .corrupt(offset: offset, reason: "records inside the frame do not parse"))
                }
                records += inner
                offset = next
            case .failure(let problem):
                if bytes[offset...].allSatisfy({ $0 == 0 }) { return Parsed(records: records, end: .clean) }
                if let later = nextValidFrame(bytes, after: offset) {
                    return Parsed(records: records, end: .corrupt(
                        offset: offset, reason: "\(problem.reason), with a valid frame after it at offset \(later)"))
                }
                return Parsed(records: records, end: .tornTail(offset: offset))
            }
        }
        return Parsed(records: records, end: .clean)
    }

    struct Problem: Error { let reason: String }

    private static func frameAt(_ bytes: [UInt8], _ offset: Int) -> Result<(ArraySlice<UInt8>, Int), Problem> {
        guard bytes.count - offset >= headerSize else { return .failure(Problem(reason: "frame header cut short")) }
        guard read32(bytes, offset) == magic else { return .failure(Problem(reason: "no frame marker")) }
        let length = Int(read32(bytes, offset + 4))
        guard length <= maxPayload, length <= bytes.count - offset - headerSize else {
            return .failure(Problem(reason: "frame of \(length) bytes cut short"))
        }
        let start = offset + headerSize
        let crc = bytes.withUnsafeBytes { raw in
            CRC32C.update(CRC32C.update(0, UnsafeRawBufferPointer(rebasing: raw[(offset + 4)..<(offset + 8)])),
                          UnsafeRawBufferPointer(rebasing: raw[start..<(start + length)]))
        }
        guard crc == read32(bytes, offset + 8) else { return .failure(Problem(reason: "checksum mismatch")) }
        return .success((bytes[start..<(start + length)], start + length))
    }

    private static func nextValidFrame(_ bytes: [UInt8], after offset: Int) -> Int? {
        var candidate = offset + 1
        while candidate + headerSize <= bytes.count {
            if read32(bytes, candidate) == magic, case .success = frameAt(bytes, candidate) { return candidate }
            candidate += 1
        }
        return nil
    }

    private static func split(_ payload: ArraySlice<UInt8>) -> [ArraySlice<UInt8>]? {
        var records: [ArraySlice<UInt8>] = []
        var position = payload.startIndex
        while position < payload.endIndex {
            guard payload.endIndex - position >= 4 else { return nil }
            let length = Int(read32(payload, position))
            guard length <= payload.endIndex - position - 4 else { return nil }
            records.append(payload[(position + 4)..<(position + 4 + length)])
            position += 4 + length
        }
        return records
    }

    /// `offset` is an index of `bytes` (slices keep their base array's indices).
    private static func read32<C: RandomAccessCollection<UInt8>>(_ bytes: C, _ offset: Int) -> UInt32 where C.Index == Int {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
    }

    private static func append32(_ value: UInt32, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }
}
