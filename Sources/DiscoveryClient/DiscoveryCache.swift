import Durable
import Foundation

/// The last discovery result as `discovery.json` in the node's cache directory.
struct DiscoveryCache: Sendable {
    let path: String

    init(directory: String) {
        path = directory + "/discovery.json"
    }

    /// The cached result, or nil when there is none or it cannot be read (the
    /// cache is only a hint; an unreadable one is ignored, not fatal).
    func load() -> Result<DiscoveryResult?, Error> {
        Result {
            guard let bytes = try AtomicFile.read(path) else { return nil }
            var result = try JSONDecoder().decode(DiscoveryResult.self, from: Data(bytes))
            result.fromCache = true
            return result
        }
    }

    func save(_ result: DiscoveryResult) throws {
        var stored = result
        stored.fromCache = false
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try AtomicFile.write(encoder.encode(stored), to: path)
    }
}
