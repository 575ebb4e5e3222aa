/// How a `ConfigChange` is stored in a log entry, and how it changes a `ClusterConfig`.
/// The byte format is stable (it lives in every WAL): one tag byte, then
/// length-prefixed UTF-8 strings (UInt32 big-endian lengths).
extension ConfigChange {
    private enum Tag: UInt8 {
        case addLearner = 1, promote = 2, remove = 3
    }

    /// The node this change is about.
    public var node: NodeID {
        switch self {
        case .addLearner(let id, _), .promote(let id), .remove(let id): id
        }
    }

    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        switch self {
        case .addLearner(let id, let address):
            bytes.append(Tag.addLearner.rawValue)
            Self.appendString(id, to: &bytes)
            Self.appendString(address, to: &bytes)
        case .promote(let id):
            bytes.append(Tag.promote.rawValue)
            Self.appendString(id, to: &bytes)
        case .remove(let id):
            bytes.append(Tag.remove.rawValue)
            Self.appendString(id, to: &bytes)
        }
        return bytes
    }

    public init(encoded bytes: [UInt8]) throws(RaftError) {
        var reader = ByteCursor(bytes: bytes)
        guard let raw = reader.readByte(), let tag = Tag(rawValue: raw) else {
            throw .malformedConfigChange("unknown tag")
        }
        let id = try reader.readString()
        switch tag {
        case .addLearner: self = .addLearner(id, address: try reader.readString())
        case .promote: self = .promote(id)
        case .remove: self = .remove(id)
        }
        guard reader.atEnd else { throw .malformedConfigChange("trailing bytes") }
    }

    private static func appendString(_ string: String, to bytes: inout [UInt8]) {
        let utf8 = Array(string.utf8)
        let count = UInt32(utf8.count)
        bytes.append(contentsOf: [UInt8(count >> 24), UInt8((count >> 16) & 0xff), UInt8((count >> 8) & 0xff), UInt8(count & 0xff)])
        bytes.append(contentsOf: utf8)
    }
}

private struct ByteCursor {
    let bytes: [UInt8]
    var offset = 0

    var atEnd: Bool { offset == bytes.count }

    mutating func readByte() -> UInt8? {
        guard offset < bytes.count else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readString() throws(RaftError) -> String {
        guard bytes.count - offset >= 4 else { throw .malformedConfigChange("truncated length") }
        var length = 0
        for _ in 0..<4 { length = length << 8 | Int(bytes[offset]); offset += 1 }
        guard bytes.count - offset >= length else { throw .malformedConfigChange("truncated string") }
        defer { offset += length }
        return String(decoding: bytes[offset..<offset + length], as: UTF8.self)
    }
}

extension ClusterConfig {
    /// Voters and learners: everyone the leader replicates to.
    public var members: Set<NodeID> { voters.union(learners) }

    public func contains(_ node: NodeID) -> Bool { voters.contains(node) || learners.contains(node) }

    /// The config after `change`. Total: an inapplicable change (checked away
    /// before proposing) leaves the config as is, so every node computes the
    /// same result from the same log.
    public func applying(_ change: ConfigChange) -> ClusterConfig {
        var next = self
        switch change {
        case .addLearner(let id, let address):
            guard !removed.contains(id), !contains(id) else { return self }
            next.learners.insert(id)
            next.addresses[id] = address
        case .promote(let id):
            guard learners.contains(id) else { return self }
            next.learners.remove(id)
            next.voters.insert(id)
        case .remove(let id):
            guard contains(id) else { return self }
            next.voters.remove(id)
            next.learners.remove(id)
            next.addresses.removeValue(forKey: id)
            next.removed.insert(id)
        }
        return next
    }

    /// The config after the change carried by `entry`; entries that are not
    /// config changes, or whose bytes do not decode, change nothing (every
    /// node decodes the same bytes the same way, so they stay in agreement).
    func applying(_ entry: Entry) -> ClusterConfig {
        guard entry.kind == .configChange, let change = try? ConfigChange(encoded: entry.data) else { return self }
        return applying(change)
    }
}
