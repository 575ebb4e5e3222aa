import Consensus

/// A node's disk: exactly what the driver persisted (step 1 of the Ready
/// contract) and what `compact` handed over. Survives crashes; nothing else does.
struct SimDisk {
    var hardState = HardState()
    var snapshot: Snapshot?
    var entries: [Entry] = []

    var state: PersistentState { PersistentState(hardState: hardState, snapshot: snapshot, entries: entries) }

    private var lastIndex: UInt64 { entries.last?.index ?? snapshot?.metadata.lastIncludedIndex ?? 0 }

    /// Applies a Ready as a real storage engine would; returns a complaint if the Ready breaks the contract.
    mutating func persist(_ ready: Ready) -> String? {
        if let installed = ready.snapshot {
            snapshot = installed
            entries.removeAll { $0.index <= installed.metadata.lastIncludedIndex }
        }
        if let from = ready.truncateFrom {
            if let first = ready.entries.first, first.index != from {
                return "truncateFrom \(from) but entries start at \(first.index)"
            }
            entries.removeAll { $0.index >= from }
        }
        if let first = ready.entries.first {
            guard first.index == lastIndex + 1 else {
                return "append at \(first.index) does not follow the stored log ending at \(lastIndex)"
            }
            entries.append(contentsOf: ready.entries)
        }
        if let hardState = ready.hardState {
            guard hardState.commit <= lastIndex else { return "hard state commit \(hardState.commit) beyond stored log \(lastIndex)" }
            self.hardState = hardState
        }
        return nil
    }

    mutating func store(compacted: Snapshot) {
        snapshot = compacted
        entries.removeAll { $0.index <= compacted.metadata.lastIncludedIndex }
    }
}

/// The replicated state machine: a running hash over every applied entry, so
/// two nodes agree on their states iff they applied the same entries.
struct SimStateMachine: Equatable {
    var index: UInt64
    var digest: UInt64

    /// The state in the initial snapshot every static cluster starts from.
    static let initial = SimStateMachine(index: 1, digest: 0x5EED)
    static let empty = SimStateMachine(index: 0, digest: 0)

    mutating func apply(_ entry: Entry) {
        index = entry.index
        digest = Self.mix(digest, entry.index, entry.term, UInt64(entry.kind.rawValue), Self.hash(entry.data))
    }

    var encoded: [UInt8] { Self.bytes(index) + Self.bytes(digest) }

    init(index: UInt64, digest: UInt64) {
        self.index = index
        self.digest = digest
    }

    init?(decoding data: [UInt8]) {
        guard data.count == 16 else { return nil }
        index = Self.value(data[0..<8])
        digest = Self.value(data[8..<16])
    }

    static func hash(_ data: [UInt8]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in data { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return h
    }

    static func mix(_ values: UInt64...) -> UInt64 {
        var h: UInt64 = 0
        for value in values {
            var rng = SplitMix64(seed: h ^ value)
            h = rng.next()
        }
        return h
    }

    static func bytes(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) } }

    static func value(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }
}
