/// File names in a storage directory:
///
///     LOCK                                   held (flock) while the directory is open
///     wal-<sequence>.log                     WAL segments, see WALFormat.swift
///     snapshot-<index>-<term>.snap           snapshots, see SnapshotFiles.swift
///     *.tmp                                  half-written files from a crash, deleted at open
///
/// Numbers are 16 lowercase hex digits, so names sort in numeric order.
struct StorageLayout {
    let directory: String

    struct Listing {
        /// Segment sequence numbers, ascending.
        var segments: [UInt64] = []
        /// Snapshot (index, term) pairs, newest first.
        var snapshots: [(index: UInt64, term: UInt64)] = []
        var temporaryFiles: [String] = []
    }

    func segmentPath(_ sequence: UInt64) -> String { "\(directory)/wal-\(Self.hex(sequence)).log" }

    func snapshotPath(index: UInt64, term: UInt64) -> String {
        "\(directory)/snapshot-\(Self.hex(index))-\(Self.hex(term)).snap"
    }

    func list() throws(RaftStorageError) -> Listing {
        var listing = Listing()
        for name in try FileSystem.listDirectory(directory) {
            if name.hasSuffix(".tmp") {
                listing.temporaryFiles.append("\(directory)/\(name)")
            } else if let sequence = Self.parseSegmentName(name) {
                listing.segments.append(sequence)
            } else if let snapshot = Self.parseSnapshotName(name) {
                listing.snapshots.append(snapshot)
            }
        }
        listing.segments.sort()
        listing.snapshots.sort { ($0.index, $0.term) > ($1.index, $1.term) }
        return listing
    }

    static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    static func parseSegmentName(_ name: String) -> UInt64? {
        guard name.hasPrefix("wal-"), name.hasSuffix(".log") else { return nil }
        return parseHex(name.dropFirst(4).dropLast(4))
    }

    static func parseSnapshotName(_ name: String) -> (index: UInt64, term: UInt64)? {
        guard name.hasPrefix("snapshot-"), name.hasSuffix(".snap") else { return nil }
        let numbers = name.dropFirst(9).dropLast(5).split(separator: "-", omittingEmptySubsequences: false)
        guard numbers.count == 2, let index = parseHex(numbers[0]), let term = parseHex(numbers[1]) else { return nil }
        return (index, term)
    }

    private static func parseHex(_ text: Substring) -> UInt64? {
        guard text.count == 16, text.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { return nil }
        return UInt64(text, radix: 16)
    }
}
