import Discovery
import Durable
import Foundation
import Glibc

/// The registry snapshot on disk: `registry.json` in the data directory,
/// replaced atomically (write a temporary file, fsync, rename, fsync the
/// directory) so a crash leaves either the old or the new snapshot.
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
            let aside = path + ".corrupt-\(Int(Date().timeIntervalSince1970))"
            let moved = rename(path, aside) == 0
            return .empty(reason: "registry snapshot \(path) is unreadable (\(error))"
                + (moved ? "; kept as \(aside)" : "; could not move it aside: \(String(cString: strerror(errno)))"))
        }
    }

    /// Writes the snapshot atomically. Throws with the failing step and errno.
    public func save(_ snapshot: RegistrySnapshot) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try AtomicFile.write(encoder.encode(snapshot), to: path)
    }
}

public struct StoreError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
