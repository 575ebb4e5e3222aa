import Dispatch
import Foundation
import Glibc
import Logging
import Synchronization

/// The registry's write-ahead journal, `DATA_DIR/registry.journal.<generation>`,
/// with group commit: callers append records (under the registry lock, so
/// the journal's order is the registry's), and one writer on its own thread
/// takes everything pending, writes it as one frame, fdatasyncs once and
/// then releases all of its callers. While it syncs, the next batch gathers.
///
/// A failed write or sync poisons the current file (what reached it is
/// unknown): its records and every later one fail until `rotate()` starts a
/// new file, which the gateway does with a full snapshot.
final class RegistryJournal: Sendable {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let directory: String
    private let logger: Logger
    private let queue = DispatchQueue(label: "gossipfl.gateway.journal")
    private let state: Mutex<State>
    /// Used only by the writer (on `queue`); a Mutex so it needs no unchecked Sendable.
    private let file: Mutex<OpenFile>

    private enum Item {
        case record(UInt64, [UInt8])
        case rotate(UInt64)
    }

    private struct State {
        var nextSeq: UInt64 = 1
        var pending: [Item] = []
        var writing = false
        /// Every record up to this one is written and synced, or failed.
        var settledThrough: UInt64 = 0
        /// Recent failed ranges (merged when adjacent), for late waiters.
        var failures: [(range: ClosedRange<UInt64>, message: String)] = []
        var waiters: [UInt64: CheckedContinuation<Void, any Error>] = [:]
        var generation: UInt64
        var bytesInGeneration = 0
        var failing: String?

        func result(for seq: UInt64) -> Result<Void, any Error> {
            if let failure = failures.last(where: { $0.range.contains(seq) }) {
                return .failure(Failure(description: failure.message))
            }
            return .success(())
        }
    }

    private struct OpenFile {
        var generation: UInt64
        var fd: Int32 = -1
        /// Where the next frame goes, and how far the file is filled with zeros:
        /// overwriting zeros lets fdatasync skip the metadata commit an append needs.
        var offset = 0
        var allocated = 0
        /// Why this generation's file is no longer written to.
        var broken: String?
    }

    init(directory: String, generation: UInt64, logger: Logger) {
        self.directory = directory
        self.logger = logger
        state = Mutex(State(generation: generation))
        file = Mutex(OpenFile(generation: generation))
    }

    static func path(_ directory: String, generation: UInt64) -> String {
        directory + "/registry.journal.\(generation)"
    }

    /// The generations of the journal files in `directory`, ascending.
    static func generations(in directory: String) -> [UInt64] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name in
            guard name.hasPrefix("registry.journal.") else { return nil }
            return UInt64(name.dropFirst("registry.journal.".count))
        }.sorted()
    }

    /// Queues a record; returns its sequence number for `waitDurable`.
    func append(_ record: [UInt8]) -> UInt64 {
        let (seq, wake) = state.withLock { s in
            let seq = s.nextSeq
            s.nextSeq += 1
            s.pending.append(.record(seq, record))
            s.bytesInGeneration += record.count + 4
            defer { s.writing = true }
            return (seq, !s.writing)
        }
        if wake { queue.async { self.drain() } }
        return seq
    }

    /// Records appended from now on go to a new file; returns its generation.
    func rotate() -> UInt64 {
        state.withLock { s in
            s.generation += 1
            s.pending.append(.rotate(s.generation))
            s.bytesInGeneration = 0
            return s.generation
        }
    }

    var generation: UInt64 { state.withLock { $0.generation } }
    var bytesInGeneration: Int { state.withLock { $0.bytesInGeneration } }
    /// Why the last write failed, while no later one succeeded.
    var failing: String? { state.withLock { $0.failing } }

    /// Returns once record `seq` is on disk; throws if it could not be stored.
    func waitDurable(_ seq: UInt64) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let settled = state.withLock { s -> Result<Void, any Error>? in
                if seq <= s.settledThrough { return s.result(for: seq) }
                s.waiters[seq] = continuation
                return nil
            }
            if let settled { continuation.resume(with: settled) }
        }
    }

    /// Waits for everything appended so far (at shutdown).
    func drainAll() async {
        let last = state.withLock { $0.nextSeq - 1 }
        if last > 0 { try? await waitDurable(last) }
    }

    /// Deletes the files a snapshot has folded in (generations below `generation`).
    func removeGenerations(before generation: UInt64) {
        for old in Self.generations(in: directory) where old < generation {
            unlink(Self.path(directory, generation: old))
        }
    }

    func close() {
        queue.sync {
            file.withLock { f in
                if f.fd >= 0 { Glibc.close(f.fd) }
                f.fd = -1
            }
        }
    }

    // MARK: the writer (on `queue`)

    private func drain() {
        while true {
            let items = state.withLock { s -> [Item]? in
                guard !s.pending.isEmpty else {
                    s.writing = false
                    return nil
                }
                defer { s.pending = [] }
                return s.pending
            }
            guard let items else { return }
            var outcomes: [(range: ClosedRange<UInt64>, error: String?)] = []
            var batch: [[UInt8]] = []
            var first: UInt64?
            var last: UInt64 = 0
            func flush() {
                guard let start = first else { return }
                outcomes.append((start...last, writeFrame(batch)))
                batch.removeAll()
                first = nil
            }
            for item in items {
                switch item {
                case .record(let seq, let bytes):
                    if first == nil { first = seq }
                    last = seq
                    batch.append(bytes)
                case .rotate(let generation):
                    flush()
                    switchFile(to: generation)
                }
            }
            flush()
            settle(outcomes)
        }
    }

    /// Writes one frame and syncs it; nil on success, else why it failed.
    private func writeFrame(_ records: [[UInt8]]) -> String? {
        file.withLock { f -> String? in
            if let broken = f.broken { return broken }
            let path = Self.path(directory, generation: f.generation)
            if f.fd < 0 {
                let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
                guard fd >= 0 else { return "open \(path): \(String(cString: strerror(errno)))" }
                // The new name must be durable before anything in the file is acknowledged.
                let dir = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                let dirSynced = dir >= 0 && fsync(dir) == 0
                if dir >= 0 { Glibc.close(dir) }
                guard dirSynced else {
                    Glibc.close(fd)
                    return "fsync \(directory): \(String(cString: strerror(errno)))"
                }
                f.fd = fd
            }
            let frame = JournalFormat.frame(records: records)
            var failure: String?
            if f.offset + frame.count > f.allocated {
                let zeros = [UInt8](repeating: 0, count: max(Self.preallocation, frame.count))
                failure = writeAll(f.fd, zeros, at: f.allocated, path: path)
                if failure == nil { f.allocated += zeros.count }
            }
            if failure == nil { failure = writeAll(f.fd, frame, at: f.offset, path: path) }
            if failure == nil { f.offset += frame.count }
            if failure == nil, fdatasync(f.fd) != 0 {
                failure = "fdatasync \(path): \(String(cString: strerror(errno)))"
            }
            if let failure { f.broken = failure }
            return failure
        }
    }

    static let preallocation = 1 << 20

    private func writeAll(_ fd: Int32, _ bytes: [UInt8], at offset: Int, path: String) -> String? {
        bytes.withUnsafeBytes { raw in
            var written = 0
            while written < raw.count {
                let n = pwrite(fd, raw.baseAddress! + written, raw.count - written, off_t(offset + written))
                if n < 0 {
                    if errno == EINTR { continue }
                    return "write \(path): \(String(cString: strerror(errno)))"
                }
                written += n
            }
            return nil
        }
    }

    private func switchFile(to generation: UInt64) {
        file.withLock { f in
            if f.fd >= 0 { Glibc.close(f.fd) }
            f = OpenFile(generation: generation)
        }
    }

    private func settle(_ outcomes: [(range: ClosedRange<UInt64>, error: String?)]) {
        var newlyFailing: String?
        var recovered = false
        let ready = state.withLock { s -> [(CheckedContinuation<Void, any Error>, Result<Void, any Error>)] in
            for outcome in outcomes {
                s.settledThrough = outcome.range.upperBound
                if let error = outcome.error {
                    if s.failing == nil { newlyFailing = error }
                    s.failing = error
                    if let last = s.failures.last, last.message == error,
                       last.range.upperBound + 1 == outcome.range.lowerBound {
                        s.failures[s.failures.count - 1].range = last.range.lowerBound...outcome.range.upperBound
                    } else {
                        s.failures.append((outcome.range, error))
                        if s.failures.count > 256 { s.failures.removeFirst(s.failures.count - 256) }
                    }
                } else if s.failing != nil {
                    s.failing = nil
                    recovered = true
                }
            }
            var ready: [(CheckedContinuation<Void, any Error>, Result<Void, any Error>)] = []
            for (seq, continuation) in s.waiters where seq <= s.settledThrough {
                ready.append((continuation, s.result(for: seq)))
            }
            for (seq, _) in s.waiters where seq <= s.settledThrough { s.waiters[seq] = nil }
            return ready
        }
        if let newlyFailing {
            logger.error("registry journal: \(newlyFailing); changes are not acknowledged (UNAVAILABLE) until the disk works again")
        }
        if recovered { logger.notice("registry journal: writing again") }
        for (continuation, result) in ready { continuation.resume(with: result) }
    }
}
