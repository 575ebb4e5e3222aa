import Consensus
import Durable

/// Appends records to the newest segment. Records are buffered in memory and reach the file
/// in `sync`, as one write followed by one fdatasync, whatever the batch size.
final class WALWriter {
    struct Statistics: Equatable {
        var writes = 0
        var syncs = 0
        var rotations = 0
    }

    let layout: StorageLayout
    /// Start a new segment before a write would take the current one past this size.
    let segmentLimit: Int
    private(set) var sequence: UInt64
    private(set) var statistics = Statistics()
    private var file: OpenFile
    /// Bytes in the current segment file.
    private var segmentLength: Int
    private var pending: [UInt8] = []

    private init(layout: StorageLayout, segmentLimit: Int, sequence: UInt64, file: OpenFile, segmentLength: Int) {
        self.layout = layout
        self.segmentLimit = segmentLimit
        self.sequence = sequence
        self.file = file
        self.segmentLength = segmentLength
    }

    /// Continues an existing segment, first cutting it to its valid length (a torn tail).
    static func resume(layout: StorageLayout, segmentLimit: Int, sequence: UInt64,
                       validLength: Int, fileLength: Int) throws(RaftStorageError) -> WALWriter {
        let file = try FileSystem.openForAppend(layout.segmentPath(sequence))
        if validLength < fileLength { try file.truncate(to: validLength) }
        return WALWriter(layout: layout, segmentLimit: segmentLimit, sequence: sequence, file: file, segmentLength: validLength)
    }

    /// Writes a checkpoint segment (the whole log state after `base`) under a temporary name,
    /// syncs and renames it, so the checkpoint is either complete on disk or absent.
    static func checkpoint(layout: StorageLayout, segmentLimit: Int, sequence: UInt64, base: (index: UInt64, term: UInt64),
                           hardState: HardState, entries: [Entry]) throws(RaftStorageError) -> WALWriter {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(128 + entries.reduce(0) { $0 + WALFormat.encodedSize(of: $1) })
        let header = SegmentHeader(kind: .checkpoint, sequence: sequence, baseIndex: base.index, baseTerm: base.term)
        WALFormat.append(.segmentHeader(header), to: &bytes)
        WALFormat.append(.hardState(hardState), to: &bytes)
        for entry in entries { WALFormat.append(.entry(entry), to: &bytes) }
        let path = layout.segmentPath(sequence)
        do {
            try AtomicFile.write(bytes, to: path)
        } catch {
            throw .io(operation: "write checkpoint segment", path: path, reason: error.description)
        }
        let file = try FileSystem.openForAppend(path)
        return WALWriter(layout: layout, segmentLimit: segmentLimit, sequence: sequence, file: file, segmentLength: bytes.count)
    }

    /// For tests that make the next write fail.
    var descriptor: Int32 { file.fd }

    func append(_ entries: ArraySlice<Entry>) {
        pending.reserveCapacity(pending.count + entries.reduce(0) { $0 + WALFormat.encodedSize(of: $1) })
        for entry in entries { WALFormat.append(.entry(entry), to: &pending) }
    }

    func append(_ hardState: HardState) {
        WALFormat.append(.hardState(hardState), to: &pending)
    }

    /// Makes every buffered record durable. On return without error, a crash loses none of them.
    func sync() throws(RaftStorageError) {
        guard !pending.isEmpty else { return }
        if segmentLength + pending.count > segmentLimit, segmentLength > Self.continuationHeaderSize {
            try rotate()
        } else {
            try file.writeAll(pending)
            statistics.writes += 1
            try file.syncData()
            statistics.syncs += 1
            segmentLength += pending.count
        }
        pending.removeAll(keepingCapacity: pending.count <= 1 << 20)
    }

    /// Starts the next segment with the pending records. The current segment is already synced
    /// in full, so it never has a torn tail once a newer segment exists.
    private func rotate() throws(RaftStorageError) {
        let next = sequence + 1
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.continuationHeaderSize + pending.count)
        let header = SegmentHeader(kind: .continuation, sequence: next, baseIndex: 0, baseTerm: 0)
        WALFormat.append(.segmentHeader(header), to: &bytes)
        bytes.append(contentsOf: pending)
        let newFile = try FileSystem.createForAppend(layout.segmentPath(next))
        try newFile.writeAll(bytes)
        statistics.writes += 1
        try newFile.syncData()
        statistics.syncs += 1
        try FileSystem.syncDirectory(layout.directory)
        file = newFile
        sequence = next
        segmentLength = bytes.count
        statistics.rotations += 1
    }

    private static let continuationHeaderSize: Int = {
        var bytes: [UInt8] = []
        WALFormat.append(.segmentHeader(SegmentHeader(kind: .continuation, sequence: 0, baseIndex: 0, baseTerm: 0)), to: &bytes)
        return bytes.count
    }()
}
