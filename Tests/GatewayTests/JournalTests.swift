@testable import Discovery
import Foundation
import Testing
@testable import Gateway

/// The registry journal: replay, a torn tail, corruption, compaction.
@Suite(.timeLimit(.minutes(1)))
struct JournalTests {
    static func node(_ id: String, port: Int = 9000) -> NodeRecord {
        NodeRecord(nodeID: id, address: NodeAddress(host: "127.0.0.1", port: port), capabilities: ["train"],
                   metadata: ["role": "w"], joinedAt: 1000, lastSeen: 1001, leaseExpiresAt: 1031, confirmed: true)
    }

    static func delta(version: UInt64, upserted: [NodeRecord] = [], removed: [String] = []) -> RegistryDelta {
        RegistryDelta(header: RegistryHeader(clusterID: "cluster-1", version: version, bootstrapInitiated: true,
                                             leader: LeaderRecord(nodeID: "a", term: 3, learnedAt: 1000),
                                             lastReport: nil, pendingBootstrapNode: nil),
                      upserted: upserted, removed: removed)
    }

    static func file(_ directory: String, _ generation: UInt64) -> String {
        RegistryJournal.path(directory, generation: generation)
    }

    /// Appends deltas as their own frames (one group commit each) and waits for them.
    static func write(_ deltas: [RegistryDelta], to directory: String, generation: UInt64 = 1) async throws {
        let journal = RegistryJournal(directory: directory, generation: generation, logger: .init(label: "test"))
        for delta in deltas {
            try await journal.waitDurable(journal.append(RegistryDeltaCodec.encode(delta)))
        }
        journal.close()
    }

    @Test func codecRoundTripsAndRejectsGarbage() throws {
        let delta = Self.delta(version: 7, upserted: [Self.node("a"), Self.node("b", port: 9001)], removed: ["c"])
        let bytes = RegistryDeltaCodec.encode(delta)
        #expect(try RegistryDeltaCodec.decode(bytes) == delta)
        for cut in [0, 1, bytes.count / 2, bytes.count - 1] {
            #expect(throws: RegistryDeltaCodec.Malformed.self) { try RegistryDeltaCodec.decode(bytes.prefix(cut)) }
        }
        #expect(throws: RegistryDeltaCodec.Malformed.self) { try RegistryDeltaCodec.decode(bytes + [0]) }
    }

    @Test func replayRebuildsTheRegistryOnTopOfTheSnapshot() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = RegistryStore(directory: directory)
        var snapshot = RegistrySnapshot.empty
        snapshot.nodes = [Self.node("old")]
        snapshot.journalGeneration = 1
        try store.save(snapshot)
        try await Self.write([
            Self.delta(version: 1, upserted: [Self.node("a")]),
            Self.delta(version: 2, upserted: [Self.node("b")], removed: ["old"]),
            Self.delta(version: 3, upserted: [Self.node("a", port: 9100)]),
        ], to: directory)
        let recovered = store.recover()
        let restored = try #require(recovered.snapshot)
        #expect(restored.nodes.map(\.nodeID) == ["a", "b"])
        #expect(restored.nodes.first?.address.port == 9100)
        #expect(restored.version == 3)
        #expect(restored.leader?.term == 3)
        #expect(recovered.problems.isEmpty, "\(recovered.problems)")
        #expect(recovered.nextGeneration == 2)
    }

    @Test func tornLastRecordIsDroppedWithANotice() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await Self.write([Self.delta(version: 1, upserted: [Self.node("a")]),
                              Self.delta(version: 2, upserted: [Self.node("b")])], to: directory)
        // Cut the second frame in half, as a crash in the middle of its write would.
        var bytes = try #require(try readFile(Self.file(directory, 1)))
        let frames = frameOffsets(bytes)
        #expect(frames.count == 2)
        bytes = Array(bytes[..<(frames[1] + 20)])
        try Data(bytes).write(to: URL(fileURLWithPath: Self.file(directory, 1)))
        let recovered = RegistryStore(directory: directory).recover()
        #expect(recovered.snapshot?.nodes.map(\.nodeID) == ["a"])
        #expect(recovered.problems.isEmpty, "\(recovered.problems)")
        #expect(recovered.notices.contains { $0.contains("torn last record at offset \(frames[1])") }, "\(recovered.notices)")
    }

    @Test func corruptionBeforeTheTailIsAnErrorNamingFileAndOffsetAndTheFileIsKeptAside() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await Self.write([Self.delta(version: 1, upserted: [Self.node("a")]),
                              Self.delta(version: 2, upserted: [Self.node("b")]),
                              Self.delta(version: 3, upserted: [Self.node("c")])], to: directory)
        let path = Self.file(directory, 1)
        var bytes = try #require(try readFile(path))
        let frames = frameOffsets(bytes)
        bytes[frames[1] + JournalFormat.headerSize + 6] ^= 0xFF  // inside the middle frame's payload
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let recovered = RegistryStore(directory: directory).recover()
        #expect(recovered.snapshot?.nodes.map(\.nodeID) == ["a"])
        let problem = try #require(recovered.problems.first)
        #expect(problem.contains(path) && problem.contains("corrupt at offset \(frames[1])"), "\(problem)")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(files.contains { $0.hasPrefix("registry.journal.1.corrupt-") }, "\(files)")
        #expect(!files.contains("registry.journal.1"))
    }

    @Test func compactionFoldsTheJournalIntoTheSnapshotAndDeletesIt() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let clock = ManualClock()
        let state = GatewayState(config: RegistryConfig(), store: RegistryStore(directory: directory), clock: { clock.now })
        for id in ["a", "b", "c"] {
            _ = try await state.mutate { registry, now in
                try registry.register(Registration(nodeID: id, address: NodeAddress(host: "127.0.0.1", port: 9000)),
                                      now: now) { "cluster-1" }
            }
        }
        _ = try await state.mutate { registry, now in registry.deregister(nodeID: "b", now: now) }
        let before = RegistryJournal.generations(in: directory)
        #expect(before.count == 1)
        state.snapshotIfDue(force: true)
        // Compaction drops the folded journal; later changes start a new one.
        #expect(RegistryJournal.generations(in: directory).isEmpty)
        _ = try await state.mutate { registry, now in
            try registry.register(Registration(nodeID: "d", address: NodeAddress(host: "127.0.0.1", port: 9000)), now: now) { "x" }
        }
        let after = RegistryJournal.generations(in: directory)
        #expect(after.count == 1 && after[0] > before[0])
        await state.close()
        let recovered = RegistryStore(directory: directory).recover()
        #expect(recovered.snapshot?.nodes.map(\.nodeID) == ["a", "c", "d"])
        #expect(recovered.snapshot?.clusterID == "cluster-1")
    }

    @Test func zeroFilledTailIsACleanEnd() {
        let frame = JournalFormat.frame(records: [RegistryDeltaCodec.encode(Self.delta(version: 1))])
        let parsed = JournalFormat.parse(frame + [UInt8](repeating: 0, count: 4096))
        #expect(parsed.end == .clean)
        #expect(parsed.records.count == 1)
    }

    func frameOffsets(_ bytes: [UInt8]) -> [Int] {
        var offsets: [Int] = []
        var i = 0
        while i + 12 <= bytes.count, bytes[i..<(i + 4)].elementsEqual([0x4A, 0x52, 0x4E, 0x4C]) {
            offsets.append(i)
            let length = Int(bytes[i + 4]) | Int(bytes[i + 5]) << 8 | Int(bytes[i + 6]) << 16 | Int(bytes[i + 7]) << 24
            i += 12 + length
        }
        return offsets
    }
}

/// The whole file, or nil if missing.
func readFile(_ path: String) throws -> [UInt8]? {
    FileManager.default.contents(atPath: path).map { Array($0) }
}
