import Consensus
import Foundation
@testable import RaftNode
import RaftStorage
import Testing

/// A data directory an older build poisoned (it adopted a forged term of 2^64-1):
/// the peer refuses to start with an error that says what is wrong and what to do,
/// instead of trapping at its first election and again on every restart.
@Suite struct PoisonedStateTests {
    @Test func aPoisonedDataDirectoryIsRefusedWithAClearError() async throws {
        let directory = NSTemporaryDirectory() + "poisoned-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let storage = try RaftStorage(directory: directory)
            storage.setHardState(HardState(term: .max, votedFor: nil, commit: 0))
            try storage.sync()
        }
        await #expect {
            _ = try await RaftPeer.start(id: "n1", host: "127.0.0.1", port: 0, dataDirectory: directory,
                                         machine: RecordLog()) { _, _ in .resume }
        } throws: { error in
            guard let unusable = error as? UnusableState else { return false }
            let text = unusable.description
            return text.contains(directory) && text.contains("stored term 18446744073709551615 exceeds")
                && text.contains("empty --data-dir")
        }
        // Nothing was deleted: the state is kept for inspection.
        let (_, state) = try RaftStorage.open(directory: directory)
        #expect(state.hardState.term == .max)
    }
}
