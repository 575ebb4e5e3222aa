import Consensus
import Durable

// Snapshot file format, version 1. All integers are little-endian; strings are a u32 byte
// count then UTF-8; sets and maps are a u32 count then their items in sorted order, so the
// same snapshot always encodes to the same bytes.
//
//     offset  size  field
//     0       8     magic "RAFTSNAP"
//     8       4     version (= 1)
//     12      4     CRC32C of bytes 16 ..< end
//     16      8     last included index
//     24      8     last included term
//     32      ...   voters (set of strings), learners (set of strings),
//                   addresses (map: node ID string -> address string),
//                   data length u64, data
//
// Files are written with AtomicFile (temporary file, fsync, rename, fsync directory), so a
// snapshot file is either complete or absent; the checksum catches later damage.

enum SnapshotFiles {
    static let magic = Array("RAFTSNAP".utf8)
    static let version: UInt32 = 1
    static let headerSize = 16

    static func write(_ snapshot: Snapshot, to path: String) throws(RaftStorageError) {
        do {
            try AtomicFile.write(encode(snapshot), to: path)
        } catch {
            throw .io(operation: "write snapshot", path: path, reason: error.description)
        }
    }

    /// The snapshot stored at `path`, checked against the index and term in its file name.
    static func read(_ path: String, index: UInt64, term: UInt64) throws(RaftStorageError) -> Snapshot {
        let bytes: [UInt8]?
        do {
            bytes = try AtomicFile.read(path)
        } catch {
            throw .io(operation: "read snapshot", path: path, reason: error.description)
        }
        guard let bytes else { throw .corruptSnapshot(file: path, reason: "the file disappeared while opening") }
        let snapshot: Snapshot
        do {
            snapshot = try decode(bytes)
        } catch {
            throw .corruptSnapshot(file: path, reason: error.reason)
        }
        guard snapshot.metadata.lastIncludedIndex == index, snapshot.metadata.lastIncludedTerm == term else {
            throw .corruptSnapshot(file: path, reason: "contains index \(snapshot.metadata.lastIncludedIndex) term "
                                   + "\(snapshot.metadata.lastIncludedTerm), but its name says index \(index) term \(term)")
        }
        return snapshot
    }

    static func encode(_ snapshot: Snapshot) -> [UInt8] {
        var bytes = magic
        bytes.reserveCapacity(headerSize + 64 + snapshot.data.count)
        bytes.appendLittleEndian(version)
        bytes.appendLittleEndian(UInt32(0))  // checksum, filled in below
        let metadata = snapshot.metadata
        bytes.appendLittleEndian(metadata.lastIncludedIndex)
        bytes.appendLittleEndian(metadata.lastIncludedTerm)
        for members in [metadata.config.voters, metadata.config.learners] {
            bytes.appendLittleEndian(UInt32(members.count))
            for member in members.sorted() { bytes.appendLengthPrefixed(member) }
        }
        bytes.appendLittleEndian(UInt32(metadata.config.addresses.count))
        for (node, address) in metadata.config.addresses.sorted(by: { $0.key < $1.key }) {
            bytes.appendLengthPrefixed(node)
            bytes.appendLengthPrefixed(address)
        }
        bytes.appendLittleEndian(UInt64(snapshot.data.count))
        bytes.append(contentsOf: snapshot.data)
        let checksum = bytes.withUnsafeBytes { CRC32C.update(0, UnsafeRawBufferPointer(rebasing: $0[headerSize...])) }
        bytes.overwriteLittleEndian(checksum, at: 12)
        return bytes
    }

    static func decode(_ bytes: [UInt8]) throws(MalformedBytes) -> Snapshot {
        let result: Result<Snapshot, MalformedBytes> = bytes.withUnsafeBytes { buffer in
            do throws(MalformedBytes) {
                return .success(try decode(buffer))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    private static func decode(_ buffer: UnsafeRawBufferPointer) throws(MalformedBytes) -> Snapshot {
        var header = ByteReader(buffer)
        guard try header.readBytes(magic.count) == magic else { throw MalformedBytes(reason: "not a snapshot file (bad magic)") }
        let version = try header.readUInt32()
        guard version == Self.version else {
            throw MalformedBytes(reason: "unsupported snapshot version \(version) (this build reads \(Self.version))")
        }
        let stored = try header.readUInt32()
        let body = UnsafeRawBufferPointer(rebasing: buffer[headerSize...])
        let computed = CRC32C.update(0, body)
        guard stored == computed else { throw MalformedBytes(reason: "checksum mismatch") }

        var reader = ByteReader(body)
        let index = try reader.readUInt64()
        let term = try reader.readUInt64()
        var memberSets: [Set<NodeID>] = []
        for _ in 0..<2 {
            let count = try reader.readUInt32()
            var members = Set<NodeID>()
            for _ in 0..<count { members.insert(try reader.readLengthPrefixedString()) }
            memberSets.append(members)
        }
        var addresses: [NodeID: String] = [:]
        for _ in 0..<(try reader.readUInt32()) {
            let node = try reader.readLengthPrefixedString()
            addresses[node] = try reader.readLengthPrefixedString()
        }
        let dataLength = try reader.readUInt64()
        guard dataLength <= UInt64(reader.remaining) else {
            throw MalformedBytes(reason: "data length \(dataLength) exceeds the \(reader.remaining) bytes left")
        }
        let data = try reader.readBytes(Int(dataLength))
        try reader.expectEnd()
        let config = ClusterConfig(voters: memberSets[0], learners: memberSets[1], addresses: addresses)
        return Snapshot(metadata: SnapshotMetadata(lastIncludedIndex: index, lastIncludedTerm: term, config: config), data: data)
    }
}
