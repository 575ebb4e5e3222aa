import Discovery
import Foundation
import Logging
import Synchronization

/// The registry behind one lock, the clock, and persistence. The lock is
/// what makes the bootstrap decision atomic across concurrent calls.
///
/// Every change (except a lease renewal) is appended to the journal under
/// that lock, and `mutate` returns only once it is on disk, so an answer
/// never acknowledges what a crash could lose. Snapshots fold the journal
/// into `registry.json` now and then.
public final class GatewayState: Sendable {
    public typealias Clock = @Sendable () -> Double
    private let registry: Mutex<Registry>
    private let persistence = Mutex(PersistenceState())
    /// One snapshot at a time (they share `registry.json.tmp`).
    private let snapshotting = Mutex(())
    let clock: Clock
    let store: RegistryStore?
    private let journal: RegistryJournal?
    let logger: Logger
    public let startedAt: Double

    /// A change was made in memory but could not be stored: not acknowledged.
    public struct NotStored: Error, CustomStringConvertible {
        public let description: String
    }

    private struct PersistenceState {
        var lastSaveAt = -Double.infinity
        /// How long the last snapshot took; snapshots are spaced by at least
        /// 10x this, so a large registry spends at most ~10% of a core on them.
        var lastSaveDuration = 0.0
        var lastSaveFailed = false
        /// Anything changed (a heartbeat included) since the last snapshot.
        var softChanges = true
    }

    /// The journal is folded into a snapshot once it holds this much.
    static let journalCompactionBytes = 8 << 20

    /// Loads the snapshot and replays the journal from `store` if there are
    /// any; what cannot be used is logged (and kept aside), the rest served.
    public init(config: RegistryConfig, store: RegistryStore?, clock: @escaping Clock = { Date().timeIntervalSince1970 },
                logger: Logger = Logger(label: "gossipfl.gateway")) {
        self.clock = clock
        self.store = store
        self.logger = logger
        let now = clock()
        startedAt = now
        var initial = Registry(config: config)
        if let store {
            let recovered = store.recover()
            for problem in recovered.problems { logger.error("\(problem)") }
            for notice in recovered.notices { logger.notice("\(notice)") }
            if let snapshot = recovered.snapshot {
                initial = Registry(restoring: snapshot, config: config, now: now)
                logger.info("restored \(initial.nodes.count) nodes from \(store.directory); marked stale until they report")
            } else {
                logger.info("no registry snapshot or journal in \(store.directory) yet; starting empty")
            }
            journal = RegistryJournal(directory: store.directory, generation: recovered.nextGeneration, logger: logger)
        } else {
            journal = nil
        }
        registry = Mutex(initial)
    }

    /// Runs `body` on the registry at the current time and returns once what
    /// it changed is durable. Throws `NotStored` if the disk failed (the
    /// change stays in memory, unacknowledged); rethrows `body`'s errors.
    public func mutate<R>(_ body: (inout Registry, Double) throws -> R) async throws -> R {
        let (result, seq) = try apply(body)
        if let seq, let journal {
            do {
                try await journal.waitDurable(seq)
            } catch {
                throw NotStored(description: "the change could not be stored (\(error)); it is not acknowledged, retry later")
            }
        }
        return result
    }

    /// Runs `body` and journals its changes without waiting for the disk
    /// (for lease sweeps, which answer nobody).
    public func withRegistry<R>(_ body: (inout Registry, Double) throws -> R) rethrows -> R {
        try apply(body).0
    }

    private func apply<R>(_ body: (inout Registry, Double) throws -> R) rethrows -> (R, UInt64?) {
        let now = clock()
        let journal = self.journal
        let outcome = try registry.withLock { registry in
            let result = try body(&registry, now)
            // Appended under the lock, so the journal's order is the registry's.
            let delta = registry.takeChanges()
            return (result, delta.flatMap { delta in journal?.append(RegistryDeltaCodec.encode(delta)) })
        }
        persistence.withLock { $0.softChanges = true }
        return outcome
    }

    /// Reads the registry without marking anything for saving.
    public func read<R>(_ body: (Registry, Double) -> R) -> R {
        let now = clock()
        return registry.withLock { body($0, now) }
    }

    /// Writes a snapshot and drops the journal it covers, when the journal has
    /// grown, has failed (a snapshot and a new file are how it recovers), or
    /// anything changed `softInterval` ago; `force` saves now. Spaced by 10x
    /// the last snapshot's duration. Failures are logged; the journal keeps
    /// the changes meanwhile.
    public func snapshotIfDue(softInterval: Double = 5, force: Bool = false) {
        guard let store else { return }
        snapshotting.withLock { _ in snapshot(to: store, softInterval: softInterval, force: force) }
    }

    private func snapshot(to store: RegistryStore, softInterval: Double, force: Bool) {
        let now = clock()
        let journalBytes = journal?.bytesInGeneration ?? 0
        let journalFailing = journal?.failing != nil
        let due = persistence.withLock { p -> Bool in
            if force { return true }
            let since = now - p.lastSaveAt
            guard since >= p.lastSaveDuration * 10 else { return false }
            if journalFailing { return since >= 1 }
            return journalBytes >= Self.journalCompactionBytes || (p.softChanges && since >= softInterval)
        }
        guard due else { return }
        // Rotate unless the last snapshot failed (which would only pile up files);
        // a failing journal always gets a new file.
        let rotate = journalFailing || !persistence.withLock { $0.lastSaveFailed }
        // Copy-on-write: the copy is O(1) under the lock; the snapshot is built outside it.
        let (copy, generation) = registry.withLock { registry in
            (registry, rotate ? journal?.rotate() : journal?.generation)
        }
        persistence.withLock { $0.softChanges = false }
        var snapshot = copy.snapshot
        snapshot.journalGeneration = generation
        let started = ContinuousClock.now
        do {
            try store.save(snapshot)
            if let generation { journal?.removeGenerations(before: generation) }
            let (seconds, attoseconds) = (ContinuousClock.now - started).components
            persistence.withLock {
                $0.lastSaveAt = now
                $0.lastSaveDuration = Double(seconds) + Double(attoseconds) / 1e18
                $0.lastSaveFailed = false
            }
        } catch {
            persistence.withLock {
                $0.lastSaveAt = now
                $0.lastSaveFailed = true
                $0.softChanges = true
            }
            logger.error("could not save the registry snapshot \(store.path): \(error); the journal keeps the changes")
        }
    }

    /// Sweeps leases and snapshots when due (the maintenance tick).
    func maintain() {
        withRegistry { registry, now in registry.expireLeases(now: now) }
        snapshotIfDue()
    }

    /// At shutdown: everything appended reaches the disk, then a last snapshot.
    func close() async {
        await journal?.drainAll()
        snapshotIfDue(force: true)
        journal?.close()
    }
}
