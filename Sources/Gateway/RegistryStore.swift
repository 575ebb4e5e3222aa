import Discovery
import Durable
import Foundation
import Glibc

/// The registry on disk: the snapshot `registry.json` in the data directory,
/// replaced atomically (write a temporary file, fsync, rename, fsync the
/// directory) so a crash leaves either the old or the new snapshot, and the
/// journal files (`RegistryJournal`) holding every change since.
public struct RegistryStore: Sendable {
    public let directory: String
    public var path: String { directory + "/registry.json" }

    public init(directory: String) {
        self.directory = directory
    }

    public enum LoadResult: Sendable {
        case loaded(RegistrySnapshot)
        /// Nothing usable: `reason` says why (nil when there simply is no file yet).
        case empty(reason: String?)
    }

    /// Reads the snapshot. A corrupt file is moved aside (kept, not deleted)
    /// and reported, so the gateway can start empty without losing it.
    public func load() -> LoadResult {
        do {
            guard let bytes = try AtomicFile.read(path) else { return .empty(reason: nil) }
            let snapshot = try JSONDecoder().decode(RegistrySnapshot.self, from: Data(bytes))
            guard snapshot.format == RegistrySnapshot.currentFormat else {
                throw StoreError("unsupported snapshot format \(snapshot.format)")
            }
            return .loaded(snapshot)
        } catch {
            return .empty(reason: "registry snapshot \(path) is unreadable (\(error))" + moveAside(path))
        }
    }

    /// Writes the snapshot atomically. Throws with the failing step and errno.
    public func save(_ snapshot: RegistrySnapshot) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try AtomicFile.write(encoder.encode(snapshot), to: path)
    }

    /// What a start finds on disk: the snapshot with the journal replayed on
    /// top and every entry validated, and what to tell the operator.
    public struct Recovered: Sendable {
        public var snapshot: RegistrySnapshot?
        /// The journal generation to write next (above every file found).
        public var nextGeneration: UInt64
        public var notices: [String] = []
        public var problems: [String] = []
    }

    public func recover() -> Recovered {
        var notices: [String] = []
        var problems: [String] = []
        var base: RegistrySnapshot?
        switch load() {
        case .loaded(let snapshot): base = snapshot
        case .empty(let reason?): problems.append("\(reason); starting from the journal alone")
        case .empty(nil): break
        }
        let first = base?.journalGeneration ?? 0
        let generations = RegistryJournal.generations(in: directory)
        var replay = RegistryReplay(base ?? .empty)
        var replayed = 0
        for generation in generations {
            let file = RegistryJournal.path(directory, generation: generation)
            guard generation >= first else {
                unlink(file)  // folded into the snapshot already; a crash kept it
                continue
            }
            let bytes: [UInt8]
            do {
                bytes = try AtomicFile.read(file) ?? []
            } catch {
                problems.append("registry journal \(file) is unreadable (\(error))" + moveAside(file))
                continue
            }
            let parsed = JournalFormat.parse(bytes)
            for (index, record) in parsed.records.enumerated() {
                do {
                    replay.apply(try RegistryDeltaCodec.decode(record))
                    replayed += 1
                } catch {
                    problems.append("registry journal \(file): record \(index) is malformed (\(error)); skipped")
                }
            }
            switch parsed.end {
            case .clean:
                break
            case .tornTail(let offset):
                notices.append("registry journal \(file): dropped a torn last record at offset \(offset) "
                    + "(\(bytes.count - offset) bytes; a crash mid-write, never acknowledged)")
            case .corrupt(let offset, let reason):
                problems.append("registry journal \(file) is corrupt at offset \(offset) (\(reason)); "
                    + "replayed the \(parsed.records.count) records before it" + moveAside(file))
            }
        }
        var recovered = Recovered(snapshot: nil, nextGeneration: max(first, (generations.last ?? 0) + 1))
        if base != nil || replayed > 0 {
            let (clean, dropped) = SnapshotValidation.clean(replay.snapshot)
            recovered.snapshot = clean
            problems += dropped.map { "registry on disk: dropped \($0)" }
            notices.append("restored \(clean.nodes.count) nodes (\(replayed) journal records replayed)")
        }
        recovered.notices = notices
        recovered.problems = problems
        return recovered
    }

    /// Renames a damaged file to `<name>.corrupt-<unix time>`; says what happened.
    private func moveAside(_ file: String) -> String {
        let aside = file + ".corrupt-\(Int(Date().timeIntervalSince1970))"
        return rename(file, aside) == 0
            ? "; kept as \(aside)"
            : "; could not move it aside: \(String(cString: strerror(errno)))"
    }
}

public struct StoreError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
