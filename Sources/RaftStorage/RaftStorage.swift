import Consensus
import Durable
import Glibc
import Synchronization

/// Crash-safe storage for one Raft node: a write-ahead log of entries and hard state, plus
/// snapshot files, in one directory.
///
/// Use from the node's driver:
/// 1. `open(directory:)` once; hand the `PersistentState` to the Raft core.
/// 2. For each batch of core output: `append` the new entries and `setHardState`, then call
///    `sync()` once before sending messages or acknowledging anything. Until `sync` returns,
///    the batch may be lost by a crash; after, it survives one.
/// 3. `saveSnapshot` after the state machine has taken one (or installed a leader's); it is
///    durable on return and shrinks the log.
///
/// Read accessors reflect everything appended, synced or not. All methods are serialised
/// by an internal lock, so the storage can be shared, though one driver task is the intent.
/// After any write or sync fails, further writes throw `.failedEarlier`: reopen the directory.
public final class RaftStorage: Sendable {
    public struct Options: Sendable {
        /// A new segment starts once the current one would pass this many bytes.
        public var segmentBytes: Int
        /// Receives one line per recovery action (torn tail truncated, leftovers deleted, ...).
        public var log: @Sendable (String) -> Void

        public init(segmentBytes: Int = 64 << 20, log: @escaping @Sendable (String) -> Void = RaftStorage.logToStandardError) {
            self.segmentBytes = segmentBytes
            self.log = log
        }
    }

    public let directory: String
    private let core: Mutex<StorageCore>

    /// Opens `directory` (creating it if needed), taking its lock, and recovers: the newest valid
    /// snapshot, then the WAL. A torn final record is cut off with a log line; any other damage
    /// throws an error naming the file and byte offset.
    public init(directory: String, options: Options = Options()) throws(RaftStorageError) {
        self.directory = directory
        let existed = FileSystem.isDirectory(directory)
        do {
            try AtomicFile.makeDirectories(directory)
        } catch {
            throw .io(operation: "create storage directory", path: directory, reason: error.description)
        }
        // A new directory's own name must be durable too, or a crash could take everything in it.
        if !existed { try FileSystem.syncDirectory(Self.parent(of: directory)) }
        let lock = try FileSystem.lockDirectory(directory)
        let layout = StorageLayout(directory: directory)
        let segmentLimit = max(options.segmentBytes, 1)
        let log = options.log
        let recovered = try Recovery(layout: layout, segmentLimit: segmentLimit, report: { log("RaftStorage \(directory): \($0)") }).run()
        core = Mutex(StorageCore(layout: layout, lock: lock, segmentLimit: segmentLimit, log: recovered.log,
                                 hardState: recovered.hardState, snapshot: recovered.snapshot, writer: recovered.writer))
    }

    /// Opens and recovers, returning the state for the Raft core to start from.
    public static func open(directory: String, options: Options = Options()) throws(RaftStorageError) -> (RaftStorage, PersistentState) {
        let storage = try RaftStorage(directory: directory, options: options)
        return (storage, storage.persistentState)
    }

    /// Hard state, snapshot and the entries after it, as the core wants them at start.
    public var persistentState: PersistentState { core.withLock { $0.persistentState } }

    /// Adds entries to the log. If the first index is at or below `lastIndex`, the log is first
    /// truncated from that index (the Raft conflict overwrite). Entries already covered by the
    /// snapshot are skipped. Throws `.invalidAppend` for a gap, non-consecutive indices or a
    /// term that goes down. Buffered until `sync`.
    public func append(_ entries: [Entry]) throws(RaftStorageError) {
        try core.withLock { (core: inout StorageCore) throws(RaftStorageError) in try core.append(entries) }
    }

    /// Records the hard state; buffered until `sync`. A value equal to the current one writes nothing.
    public func setHardState(_ state: HardState) {
        core.withLock { $0.setHardState(state) }
    }

    /// Makes everything appended since the last sync durable: one write and one fdatasync
    /// (plus a directory fsync when a new segment starts). A no-op when nothing is pending.
    public func sync() throws(RaftStorageError) {
        try core.withLock { (core: inout StorageCore) throws(RaftStorageError) in try core.sync() }
    }

    /// Stores a snapshot durably, then compacts: entries up to its last index are dropped from
    /// the log (all entries, if the log disagrees with the snapshot at that index), the WAL is
    /// rewritten as one checkpoint segment holding the hard state and the remaining entries,
    /// and older segments and snapshot files are deleted. Also makes pending appends durable.
    public func saveSnapshot(_ snapshot: Snapshot) throws(RaftStorageError) {
        try core.withLock { (core: inout StorageCore) throws(RaftStorageError) in try core.saveSnapshot(snapshot) }
    }

    /// The entries with indices in `from ..< to`. Throws `.compacted` when `from` is at or below
    /// the snapshot index (send the snapshot instead) and `.unavailable` past `lastIndex`.
    public func entries(from: UInt64, to: UInt64) throws(RaftStorageError) -> [Entry] {
        try core.withLock { (core: inout StorageCore) throws(RaftStorageError) in try core.log.entries(from: from, to: to) }
    }

    /// The term of the entry at `index`; the snapshot's term at its last index; nil otherwise.
    public func term(at index: UInt64) -> UInt64? { core.withLock { $0.log.term(at: index) } }

    /// The first index still in the log: the snapshot's last index + 1 (1 without a snapshot).
    public var firstIndex: UInt64 { core.withLock { $0.log.firstIndex } }

    /// The last index in the log, or the snapshot's last index when the log is empty.
    public var lastIndex: UInt64 { core.withLock { $0.log.lastIndex } }

    public var hardState: HardState { core.withLock { $0.hardState } }

    public var snapshot: Snapshot? { core.withLock { $0.snapshot } }

    /// For tests: write and fdatasync calls of the current WAL writer (reset by a checkpoint),
    /// and its file descriptor.
    var walStatistics: WALWriter.Statistics { core.withLock { $0.writer.statistics } }
    var walDescriptor: Int32 { core.withLock { $0.writer.descriptor } }

    private static func parent(of path: String) -> String {
        let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        return slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
    }

    @Sendable public static func logToStandardError(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}
