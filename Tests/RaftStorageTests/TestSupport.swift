import Consensus
import Foundation
import Synchronization
@testable import RaftStorage

/// A fresh directory path under the system temp directory (not created), removed by `cleanUp`.
struct TemporaryDirectory {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("raftstorage-\(UUID().uuidString)").path

    func cleanUp() { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { path + "/" + name }

    /// WAL segment paths, oldest first.
    func segments() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasPrefix("wal-") && $0.hasSuffix(".log") }
            .sorted().map(file)
    }

    func snapshots() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".snap") }.sorted().map(file)
    }

    /// Total bytes of the WAL segments.
    func walBytes() throws -> Int {
        try segments().reduce(0) { $0 + (try fileSize($1)) }
    }
}

func withTemporaryDirectory<T>(_ body: (TemporaryDirectory) throws -> T) throws -> T {
    let directory = TemporaryDirectory()
    defer { directory.cleanUp() }
    return try body(directory)
}

/// Collects recovery log lines so tests can check what recovery said it did.
final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])

    var all: [String] { lines.withLock { $0 } }

    var options: RaftStorage.Options { options(segmentBytes: 64 << 20) }

    func options(segmentBytes: Int) -> RaftStorage.Options {
        RaftStorage.Options(segmentBytes: segmentBytes, log: { line in self.lines.withLock { $0.append(line) } })
    }
}

let quiet = RaftStorage.Options(log: { _ in })

/// Opens, runs `body`, and closes again (the storage is released on return, dropping its lock).
func withStorage<T>(_ directory: TemporaryDirectory, options: RaftStorage.Options = quiet,
                    _ body: (RaftStorage) throws -> T) throws -> T {
    let storage = try RaftStorage(directory: directory.path, options: options)
    return try body(storage)
}

/// What a restarted node would see.
func recover(_ directory: TemporaryDirectory, options: RaftStorage.Options = quiet) throws -> PersistentState {
    try withStorage(directory, options: options) { $0.persistentState }
}

/// The error opening throws, or nil if it opens.
func openingError(_ directory: TemporaryDirectory, options: RaftStorage.Options = quiet) -> RaftStorageError? {
    do {
        _ = try RaftStorage(directory: directory.path, options: options)
        return nil
    } catch {
        return error
    }
}

/// Entries `indices` in `term`, each with `size` bytes of data derived from its index and term.
func makeEntries(_ indices: ClosedRange<UInt64>, term: UInt64, size: Int = 16, kind: Entry.Kind = .normal) -> [Entry] {
    indices.map { index in
        Entry(term: term, index: index, kind: kind,
              data: (0..<size).map { UInt8(truncatingIfNeeded: Int(index) &* 31 &+ Int(term) &* 7 &+ $0) })
    }
}

func makeSnapshot(index: UInt64, term: UInt64, payload: String = "state") -> Snapshot {
    let config = ClusterConfig(voters: ["n1", "n2", "n3"], learners: ["n4"],
                               addresses: ["n1": "127.0.0.1:7001", "n2": "127.0.0.1:7002", "n3": "127.0.0.1:7003", "n4": "[::1]:7004"])
    return Snapshot(metadata: SnapshotMetadata(lastIncludedIndex: index, lastIncludedTerm: term, config: config),
                    data: Array("\(payload)@\(index)".utf8))
}

func fileSize(_ path: String) throws -> Int {
    (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? -1
}

func readFile(_ path: String) throws -> [UInt8] {
    Array(try Data(contentsOf: URL(fileURLWithPath: path)))
}

func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}
