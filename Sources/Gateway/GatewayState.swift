import Discovery
import Foundation
import Logging
import Synchronization

/// The registry behind one lock, the clock, and persistence. The lock is
/// what makes the bootstrap decision atomic across concurrent calls.
public final class GatewayState: Sendable {
    public typealias Clock = @Sendable () -> Double
    private let registry: Mutex<Registry>
    private let persistence = Mutex(PersistenceState())
    let clock: Clock
    let store: RegistryStore?
    let logger: Logger
    public let startedAt: Double

    private struct PersistenceState {
        var lastSavedSignature: Signature?
        var lastSaveAt = 0.0
        /// How long the last save took; saves are spaced by at least 10x this,
        /// so a large registry spends at most ~10% of a core on snapshots.
        var lastSaveDuration = 0.0
        var softChanges = false
    }

    /// What, when changed, must reach the disk promptly (lease refreshes wait).
    private struct Signature: Equatable {
        var version: UInt64
        var leader: LeaderRecord?
        var clusterID: String?
    }

    /// Loads the snapshot from `store` if there is one; a missing or corrupt
    /// snapshot is logged and the gateway starts empty.
    public init(config: RegistryConfig, store: RegistryStore?, clock: @escaping Clock = { Date().timeIntervalSince1970 },
                logger: Logger = Logger(label: "gossipfl.gateway")) {
        self.clock = clock
        self.store = store
        self.logger = logger
        let now = clock()
        startedAt = now
        var initial = Registry(config: config)
        switch store?.load() {
        case .loaded(let snapshot)?:
            initial = Registry(restoring: snapshot, config: config, now: now)
            logger.info("restored \(snapshot.nodes.count) nodes from \(store!.path); marked stale until they report")
        case .empty(let reason?)?:
            logger.error("\(reason); starting with an empty registry")
        case .empty(nil)?:
            logger.info("no registry snapshot at \(store!.path) yet; starting empty")
        case nil:
            break
        }
        registry = Mutex(initial)
    }

    /// Runs `body` on the registry at the current time.
    public func withRegistry<R>(_ body: (inout Registry, Double) throws -> R) rethrows -> R {
        let now = clock()
        let result = try registry.withLock { try body(&$0, now) }
        persistence.withLock { $0.softChanges = true }
        return result
    }

    /// Reads the registry without marking anything for saving.
    public func read<R>(_ body: (Registry, Double) -> R) -> R {
        let now = clock()
        return registry.withLock { body($0, now) }
    }

    /// Saves when membership, leader or cluster changed since the last save,
    /// or when anything changed and `softInterval` has passed. Disk errors
    /// are logged; the registry keeps serving from memory.
    public func saveIfNeeded(softInterval: Double = 5, force: Bool = false) {
        guard let store else { return }
        let now = clock()
        // Copy-on-write: the copy is O(1) under the lock; the snapshot is built outside it.
        let copy = registry.withLock { $0 }
        let signature = Signature(version: copy.version, leader: copy.leader, clusterID: copy.clusterID)
        let due = persistence.withLock { state -> Bool in
            if force { return true }
            guard now - state.lastSaveAt >= state.lastSaveDuration * 10 else { return false }
            return state.lastSavedSignature != signature || (state.softChanges && now - state.lastSaveAt >= softInterval)
        }
        guard due else { return }
        do {
            let started = ContinuousClock.now
            try store.save(copy.snapshot)
            let (seconds, attoseconds) = (ContinuousClock.now - started).components
            persistence.withLock {
                $0.lastSavedSignature = signature
                $0.lastSaveAt = now
                $0.lastSaveDuration = Double(seconds) + Double(attoseconds) / 1e18
                $0.softChanges = false
            }
        } catch {
            logger.error("could not save the registry snapshot: \(error); still serving from memory")
        }
    }
}
