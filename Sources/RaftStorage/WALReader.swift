/// Splits a segment file's bytes into records, and says where and how it stops being valid.
/// Deciding whether damage is a torn tail (forgivable) or corruption is left to recovery,
/// which knows whether the segment is the newest one.
struct SegmentScan {
    struct Damage: Equatable {
        /// Where the first invalid record starts.
        var offset: Int
        var reason: String
        /// The offset of an intact record found after the damage, if any: proof that the damage
        /// is not a write cut short by a crash.
        var intactRecordAfter: Int?
    }

    var records: [(offset: Int, record: WALRecord)] = []
    /// The length of the valid prefix: the end of the last intact record.
    var validLength = 0
    var fileLength = 0
    var damage: Damage?
}

enum WALReader {
    /// Throws only for records whose checksum matches but whose content cannot be decoded;
    /// framing and checksum failures are reported as `damage` instead.
    static func scan(_ bytes: [UInt8], file: String) throws(RaftStorageError) -> SegmentScan {
        var scan = SegmentScan()
        scan.fileLength = bytes.count
        let result: Result<Void, RaftStorageError> = bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                switch WALFormat.frame(in: buffer, at: offset) {
                case .damaged(let reason):
                    scan.damage = SegmentScan.Damage(offset: offset, reason: reason,
                                                     intactRecordAfter: intactRecord(in: buffer, after: offset))
                    return .success(())
                case .intact(let type, let flags, let payload, let next):
                    do throws(MalformedBytes) {
                        let record = try WALFormat.decode(type: type, flags: flags,
                                                          payload: UnsafeRawBufferPointer(rebasing: buffer[payload]))
                        scan.records.append((offset, record))
                    } catch {
                        return .failure(.corruptWAL(file: file, offset: offset,
                                                    reason: "checksum matches but the record does not decode: \(error.reason)"))
                    }
                    offset = next
                    scan.validLength = next
                }
            }
            return .success(())
        }
        try result.get()
        return scan
    }

    /// The first offset after `offset` where an intact record starts. Checks the magic bytes
    /// before the checksum so the search stays cheap over arbitrary data.
    static func intactRecord(in buffer: UnsafeRawBufferPointer, after offset: Int) -> Int? {
        var candidate = offset + 1
        while candidate + WALFormat.headerSize <= buffer.count {
            if buffer[candidate + 8] == WALFormat.magic.0, buffer[candidate + 9] == WALFormat.magic.1,
               case .intact = WALFormat.frame(in: buffer, at: candidate) {
                return candidate
            }
            candidate += 1
        }
        return nil
    }
}
