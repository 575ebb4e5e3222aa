import Consensus
import Foundation
import Glibc
import Testing
@testable import RaftStorage

@Suite struct DiskErrorTests {
    @Test func aDirectoryBelowARegularFileIsAClearError() throws {
        try withTemporaryDirectory { directory in
            try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
            let blocker = directory.file("not-a-directory")
            try writeFile(blocker, [1])
            let error = try #require(throws: RaftStorageError.self) {
                try RaftStorage(directory: blocker + "/raft", options: quiet)
            }
            guard case .io(let operation, let path, let reason) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(operation == "create storage directory")
            #expect(path == blocker + "/raft")
            #expect(reason.contains("Not a directory"))
        }
    }

    /// Root ignores permission bits, so this only runs as an ordinary user.
    @Test(.enabled(if: geteuid() != 0, "root can write anywhere"))
    func anUnwritableDirectoryIsAClearError() throws {
        try withTemporaryDirectory { directory in
            try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
            chmod(directory.path, 0o500)
            defer { chmod(directory.path, 0o700) }
            let error = try #require(throws: RaftStorageError.self) {
                try RaftStorage(directory: directory.path, options: quiet)
            }
            #expect(error == .io(operation: "open", path: directory.file("LOCK"), reason: "Permission denied"))
        }
    }

    /// A failed write leaves the file in an unknown state: the storage refuses further writes,
    /// and reopening recovers what was synced before.
    @Test func aFailedWriteIsReportedAndStopsFurtherWrites() throws {
        try withTemporaryDirectory { directory in
            let synced = try withStorage(directory) { storage in
                try storage.append(makeEntries(1...3, term: 1))
                try storage.sync()
                let synced = storage.persistentState

                // Put a read-only descriptor in place of the segment's, so the next write fails.
                let readOnly = open("/dev/null", O_RDONLY)
                #expect(readOnly >= 0)
                #expect(dup2(readOnly, storage.walDescriptor) >= 0)
                close(readOnly)

                try storage.append(makeEntries(4...4, term: 1))
                let error = try #require(throws: RaftStorageError.self) { try storage.sync() }
                guard case .io("write", let path, let reason) = error else {
                    Issue.record("unexpected \(error)")
                    return synced
                }
                #expect(path == (try directory.segments().last))
                #expect(reason == String(cString: strerror(EBADF)))
                #expect(throws: RaftStorageError.failedEarlier(error)) { try storage.sync() }
                #expect(throws: RaftStorageError.failedEarlier(error)) { try storage.append(makeEntries(5...5, term: 1)) }
                #expect(throws: RaftStorageError.failedEarlier(error)) { try storage.saveSnapshot(makeSnapshot(index: 2, term: 1)) }
                return synced
            }
            #expect(try recover(directory) == synced)
        }
    }
}
