/// A compact binary form of `RegistryDelta` for the journal: encoded under
/// the registry lock on every change, so it must be cheap (JSON is not).
/// Little-endian integers, strings as a 32-bit length and UTF-8, optionals
/// behind a 0/1 byte. Decoding checks every length against what is left.
public enum RegistryDeltaCodec {
    /// 2 adds `reportedMember` after `confirmed`; records of format 1 still decode.
    static let formatByte: UInt8 = 2

    public struct Malformed: Error, CustomStringConvertible {
        public let description: String
    }

    public static func encode(_ delta: RegistryDelta) -> [UInt8] {
        var out = Writer()
        out.u8(formatByte)
        let h = delta.header
        out.optional(h.clusterID) { $0.string($1) }
        out.u64(h.version)
        out.u8(h.bootstrapInitiated ? 1 : 0)
        out.optional(h.leader) { out, leader in
            out.string(leader.nodeID)
            out.u64(leader.term)
            out.f64(leader.learnedAt)
        }
        out.optional(h.lastReport) { out, report in
            out.u64(report.term)
            out.f64(report.reportedAt)
            out.string(report.reporterID)
        }
        out.optional(h.pendingBootstrapNode) { $0.string($1) }
        out.u32(UInt32(delta.upserted.count))
        for node in delta.upserted {
            out.string(node.nodeID)
            out.string(node.address.host)
            out.u64(UInt64(bitPattern: Int64(node.address.port)))
            out.u32(UInt32(node.capabilities.count))
            for capability in node.capabilities { out.string(capability) }
            out.u32(UInt32(node.metadata.count))
            for (key, value) in node.metadata.sorted(by: { $0.key < $1.key }) {
                out.string(key)
                out.string(value)
            }
            out.f64(node.joinedAt)
            out.f64(node.lastSeen)
            out.f64(node.leaseExpiresAt)
            out.u8(node.confirmed ? 1 : 0)
            out.u8(node.reportedMember.map { $0 ? 2 : 1 } ?? 0)  // nil, false, true
        }
        out.u32(UInt32(delta.removed.count))
        for id in delta.removed { out.string(id) }
        return out.bytes
    }

    public static func decode(_ bytes: some Collection<UInt8>) throws(Malformed) -> RegistryDelta {
        var r = Reader(bytes: Array(bytes))
        let format = try r.u8()
        guard format == 1 || format == formatByte else { throw Malformed(description: "unknown journal record format") }
        let clusterID = try r.optional { r throws(Malformed) in try r.string() }
        let version = try r.u64()
        let bootstrapInitiated = try r.bool()
        let leader = try r.optional { r throws(Malformed) in
            LeaderRecord(nodeID: try r.string(), term: try r.u64(), learnedAt: try r.f64())
        }
        let lastReport = try r.optional { r throws(Malformed) in
            ReportKey(term: try r.u64(), reportedAt: try r.f64(), reporterID: try r.string())
        }
        let pending = try r.optional { r throws(Malformed) in try r.string() }
        var upserted: [NodeRecord] = []
        for _ in 0..<(try r.count()) {
            let id = try r.string()
            let host = try r.string()
            let port = Int(truncatingIfNeeded: Int64(bitPattern: try r.u64()))
            var capabilities: [String] = []
            for _ in 0..<(try r.count()) { capabilities.append(try r.string()) }
            var metadata: [String: String] = [:]
            for _ in 0..<(try r.count()) { metadata[try r.string()] = try r.string() }
            var record = NodeRecord(
                nodeID: id, address: NodeAddress(host: host, port: port), capabilities: capabilities, metadata: metadata,
                joinedAt: try r.f64(), lastSeen: try r.f64(), leaseExpiresAt: try r.f64(), confirmed: try r.bool())
            if format >= 2 {
                switch try r.u8() {
                case 0: record.reportedMember = nil
                case 1: record.reportedMember = false
                case 2: record.reportedMember = true
                default: throw Malformed(description: "bad member flag in a journal record")
                }
            }
            upserted.append(record)
        }
        var removed: [String] = []
        for _ in 0..<(try r.count()) { removed.append(try r.string()) }
        guard r.position == r.bytes.count else { throw Malformed(description: "trailing bytes in a journal record") }
        return RegistryDelta(
            header: RegistryHeader(clusterID: clusterID, version: version, bootstrapInitiated: bootstrapInitiated,
                                   leader: leader, lastReport: lastReport, pendingBootstrapNode: pending),
            upserted: upserted, removed: removed)
    }

    private struct Writer {
        var bytes: [UInt8] = []
        init() { bytes.reserveCapacity(256) }
        mutating func u8(_ v: UInt8) { bytes.append(v) }
        mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
        mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
        mutating func f64(_ v: Double) { u64(v.bitPattern) }
        mutating func string(_ s: String) {
            u32(UInt32(s.utf8.count))
            bytes.append(contentsOf: s.utf8)
        }
        mutating func optional<T>(_ value: T?, _ body: (inout Writer, T) -> Void) {
            guard let value else { return u8(0) }
            u8(1)
            body(&self, value)
        }
    }

    private struct Reader {
        let bytes: [UInt8]
        var position = 0

        mutating func take(_ n: Int) throws(Malformed) -> ArraySlice<UInt8> {
            guard n >= 0, n <= bytes.count - position else { throw Malformed(description: "journal record cut short") }
            defer { position += n }
            return bytes[position..<position + n]
        }
        mutating func u8() throws(Malformed) -> UInt8 { try take(1).first! }
        mutating func bool() throws(Malformed) -> Bool {
            switch try u8() {
            case 0: false
            case 1: true
            default: throw Malformed(description: "bad flag in a journal record")
            }
        }
        mutating func u32() throws(Malformed) -> UInt32 {
            try take(4).reversed().reduce(0) { $0 << 8 | UInt32($1) }
        }
        mutating func u64() throws(Malformed) -> UInt64 {
            try take(8).reversed().reduce(0) { $0 << 8 | UInt64($1) }
        }
        mutating func f64() throws(Malformed) -> Double { Double(bitPattern: try u64()) }
        /// An element count; each element takes at least a byte, which bounds it.
        mutating func count() throws(Malformed) -> Int {
            let n = Int(try u32())
            guard n <= bytes.count - position else { throw Malformed(description: "journal record count too large") }
            return n
        }
        mutating func string() throws(Malformed) -> String {
            let n = Int(try u32())
            let slice = try take(n)
            guard let s = String(validating: slice, as: UTF8.self) else {
                throw Malformed(description: "journal record string is not UTF-8")
            }
            return s
        }
        mutating func optional<T>(_ body: (inout Reader) throws(Malformed) -> T) throws(Malformed) -> T? {
            try bool() ? try body(&self) : nil
        }
    }
}
