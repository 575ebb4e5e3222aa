/// Everything that can go wrong in Raft storage. Each case names the file involved, so an
/// operator can find the problem without reading code.
public enum RaftStorageError: Error, Equatable, CustomStringConvertible {
    /// A system call failed: `operation` on `path`, with strerror's text.
    case io(operation: String, path: String, reason: String)
    /// A WAL record is damaged in a way a crash during a write cannot explain.
    case corruptWAL(file: String, offset: Int, reason: String)
    /// The segment files do not form one unbroken log.
    case inconsistentWAL(file: String, reason: String)
    /// A snapshot file cannot be decoded or disagrees with the WAL.
    case corruptSnapshot(file: String, reason: String)
    /// The WAL starts after `neededIndex`, so it needs a snapshot at least that new, and none is usable.
    case missingSnapshot(neededIndex: UInt64, walFile: String, detail: String)
    /// Another process (or another open instance) holds the directory's lock.
    case directoryInUse(path: String)
    /// `append` was given entries that cannot extend the log.
    case invalidAppend(reason: String)
    /// `saveSnapshot` was given a snapshot no newer than the one already saved.
    case staleSnapshot(index: UInt64, currentIndex: UInt64)
    /// The requested entries were compacted into the snapshot.
    case compacted(index: UInt64, firstIndex: UInt64)
    /// The requested entries are past the end of the log.
    case unavailable(index: UInt64, lastIndex: UInt64)
    /// An earlier write or sync failed; what reached the disk is unknown, so this instance
    /// refuses further writes. Reopen the directory to recover from what is on disk.
    indirect case failedEarlier(RaftStorageError)

    public var description: String {
        switch self {
        case .io(let operation, let path, let reason):
            return "\(operation) \(path): \(reason)"
        case .corruptWAL(let file, let offset, let reason):
            return "corrupt WAL record in \(file) at byte offset \(offset): \(reason)"
        case .inconsistentWAL(let file, let reason):
            return "inconsistent WAL at \(file): \(reason)"
        case .corruptSnapshot(let file, let reason):
            return "corrupt snapshot \(file): \(reason)"
        case .missingSnapshot(let neededIndex, let walFile, let detail):
            return "WAL \(walFile) continues from a snapshot at index \(neededIndex) or later, but no usable snapshot exists: \(detail)"
        case .directoryInUse(let path):
            return "storage directory \(path) is already open (its LOCK file is held)"
        case .invalidAppend(let reason):
            return "invalid append: \(reason)"
        case .staleSnapshot(let index, let currentIndex):
            return "snapshot at index \(index) is not newer than the saved one at index \(currentIndex)"
        case .compacted(let index, let firstIndex):
            return "entry \(index) was compacted into the snapshot; the log starts at \(firstIndex)"
        case .unavailable(let index, let lastIndex):
            return "entry \(index) is past the end of the log at \(lastIndex)"
        case .failedEarlier(let original):
            return "storage refused the write because an earlier one failed (\(original)); reopen the directory"
        }
    }
}

