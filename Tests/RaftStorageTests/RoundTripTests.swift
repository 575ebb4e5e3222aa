import Consensus
import Foundation
import Testing
@testable import RaftStorage

@Suite struct RoundTripTests {
    @Test func emptyDirectoryGivesEmptyState() throws {
        try withTemporaryDirectory { directory in
            let (storage, state) = try RaftStorage.open(directory: directory.path + "/nested/raft", options: quiet)
            #expect(state.isEmpty)
            #expect(storage.firstIndex == 1)
            #expect(storage.lastIndex == 0)
            #expect(storage.term(at: 0) == 0)
            #expect(storage.term(at: 1) == nil)
            #expect(storage.snapshot == nil)
            #expect(try storage.entries(from: 1, to: 1) == [])
        }
    }

    @Test func anExistingEmptyDirectoryGivesEmptyState() throws {
        try withTemporaryDirectory { directory in
            try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
            #expect(try recover(directory).isEmpty)
            #expect(try recover(directory).isEmpty, "and again once its first segment exists")
            #expect(try directory.segments().count == 1)
        }
    }

    @Test func appendedEntriesAndHardStateSurviveReopen() throws {
        try withTemporaryDirectory { directory in
            let written = try withStorage(directory) { storage in
                try storage.append(makeEntries(1...3, term: 1) + [Entry(term: 2, index: 4, kind: .noop)])
                storage.setHardState(HardState(term: 2, votedFor: "n2", commit: 1))
                try storage.sync()
                try storage.append([Entry(term: 2, index: 5, kind: .configChange, data: Array("promote n4".utf8))])
                storage.setHardState(HardState(term: 2, votedFor: "n2", commit: 5))
                try storage.sync()
                return storage.persistentState
            }
            #expect(written.entries.map(\.index) == [1, 2, 3, 4, 5])
            #expect(written.hardState == HardState(term: 2, votedFor: "n2", commit: 5))
            #expect(try recover(directory) == written)
            #expect(try recover(directory) == written, "a second restart sees the same")
        }
    }

    @Test func hardStateWithoutVoteSurvivesReopen() throws {
        try withTemporaryDirectory { directory in
            try withStorage(directory) { storage in
                storage.setHardState(HardState(term: 3, votedFor: "n1", commit: 0))
                storage.setHardState(HardState(term: 4, votedFor: nil, commit: 0))
                try storage.sync()
            }
            #expect(try recover(directory).hardState == HardState(term: 4, votedFor: nil, commit: 0))
        }
    }

    /// The Raft conflict overwrite: a leader's entries replace a divergent suffix.
    @Test func conflictingEntriesTruncateTheLogAcrossReopens() throws {
        try withTemporaryDirectory { directory in
            try withStorage(directory) { storage in
                try storage.append(makeEntries(1...10, term: 1))
                try storage.sync()
                try storage.append(makeEntries(6...7, term: 2))
                try storage.sync()
                #expect(storage.lastIndex == 7)
                #expect(storage.term(at: 7) == 2)
                #expect(storage.term(at: 8) == nil)
            }
            let state = try recover(directory)
            #expect(state.entries == makeEntries(1...5, term: 1) + makeEntries(6...7, term: 2))

            try withStorage(directory) { storage in
                try storage.append(makeEntries(8...9, term: 2))
                try storage.append(makeEntries(3...4, term: 3))  // overwrites within one unsynced batch
                try storage.sync()
            }
            #expect(try recover(directory).entries == makeEntries(1...2, term: 1) + makeEntries(3...4, term: 3))
        }
    }

    @Test func appendsThatCannotExtendTheLogAreRejected() throws {
        try withTemporaryDirectory { directory in
            try withStorage(directory) { storage in
                try storage.append(makeEntries(1...5, term: 2))
                let before = storage.persistentState

                func rejection(_ entries: [Entry]) -> RaftStorageError? {
                    do {
                        try storage.append(entries)
                        return nil
                    } catch {
                        return error
                    }
                }
                guard case .invalidAppend(let gap)? = rejection(makeEntries(7...8, term: 2)) else {
                    Issue.record("a gap was accepted")
                    return
                }
                #expect(gap.contains("gap"))
                guard case .invalidAppend? = rejection([Entry(term: 2, index: 6), Entry(term: 2, index: 8)]) else {
                    Issue.record("non-consecutive indices were accepted")
                    return
                }
                guard case .invalidAppend(let lowerTerm)? = rejection(makeEntries(6...6, term: 1)) else {
                    Issue.record("a decreasing term was accepted")
                    return
                }
                #expect(lowerTerm.contains("term 1"))
                #expect(storage.persistentState == before)
                try storage.append([])
                #expect(storage.persistentState == before)
            }
        }
    }

    @Test func readAccessorsCoverTheLog() throws {
        try withTemporaryDirectory { directory in
            try withStorage(directory) { storage in
                try storage.append(makeEntries(1...4, term: 1) + makeEntries(5...8, term: 3))
                #expect(try storage.entries(from: 3, to: 6) == makeEntries(3...4, term: 1) + makeEntries(5...5, term: 3))
                #expect(try storage.entries(from: 8, to: 9) == makeEntries(8...8, term: 3))
                #expect(throws: RaftStorageError.unavailable(index: 9, lastIndex: 8)) { try storage.entries(from: 5, to: 10) }
                #expect(throws: RaftStorageError.compacted(index: 0, firstIndex: 1)) { try storage.entries(from: 0, to: 2) }
                #expect(storage.term(at: 4) == 1)
                #expect(storage.term(at: 5) == 3)
                #expect(storage.term(at: 9) == nil)
                #expect(storage.firstIndex == 1)
                #expect(storage.lastIndex == 8)
            }
        }
    }

    @Test func aSecondOpenOfTheSameDirectoryIsRefused() throws {
        try withTemporaryDirectory { directory in
            try withStorage(directory) { _ in
                #expect(openingError(directory) == .directoryInUse(path: directory.path))
            }
            #expect(openingError(directory) == nil, "the lock goes with the first instance")
        }
    }
}
