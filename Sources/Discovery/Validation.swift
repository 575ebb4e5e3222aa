/// Input checks for registrations; a failure names the field and the rule.
public enum RegistrationValidation {
    public static let maxNodeIDBytes = 128
    public static let maxCapabilities = 64
    public static let maxCapabilityBytes = 128
    public static let maxMetadataEntries = 64
    public static let maxMetadataBytes = 1024
    /// Raft terms (and the indexes beside them) stay below 2^62, as the Raft peers bound theirs.
    public static let maxTerm: UInt64 = 1 << 62

    public struct Failure: Error, Equatable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// 1...128 bytes of [A-Za-z0-9._:-].
    public static func checkNodeID(_ id: String, field: String = "node_id") throws(Failure) {
        guard !id.isEmpty else { throw Failure("\(field) is empty") }
        guard id.utf8.count <= maxNodeIDBytes else {
            throw Failure("\(field) is \(id.utf8.count) bytes; the limit is \(maxNodeIDBytes)")
        }
        guard id.utf8.allSatisfy(isNodeIDByte) else {
            throw Failure("\(field) \(id.debugDescription) may only contain letters, digits and . _ : -")
        }
    }

    private static func isNodeIDByte(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"),
             UInt8(ascii: "-"):
            true
        default:
            false
        }
    }

    /// A host name (RFC 1123), an IPv4 address or an IPv6 address, and a port 1...65535.
    public static func checkAddress(host: String, port: Int, field: String = "address") throws(Failure) {
        guard !host.isEmpty else { throw Failure("\(field).host is empty") }
        guard isIPv4(host) || isIPv6(host) || isHostName(host) else {
            throw Failure("\(field).host \(host.debugDescription) is not a host name or IP address")
        }
        guard (1...65535).contains(port) else { throw Failure("\(field).port \(port) is not in 1...65535") }
    }

    public static func checkCapabilities(_ capabilities: [String], field: String = "capabilities") throws(Failure) {
        guard capabilities.count <= maxCapabilities else {
            throw Failure("\(capabilities.count) \(field); the limit is \(maxCapabilities)")
        }
        for capability in capabilities {
            guard !capability.isEmpty, capability.utf8.count <= maxCapabilityBytes else {
                throw Failure("\(field) entry \(capability.debugDescription) must be 1...\(maxCapabilityBytes) bytes")
            }
            try checkNoNUL(capability, field: field)
        }
    }

    public static func checkMetadata(_ metadata: [String: String], field: String = "metadata") throws(Failure) {
        guard metadata.count <= maxMetadataEntries else {
            throw Failure("\(metadata.count) \(field) entries; the limit is \(maxMetadataEntries)")
        }
        for (key, value) in metadata {
            guard !key.isEmpty, key.utf8.count + value.utf8.count <= maxMetadataBytes else {
                throw Failure("\(field) entry \(key.debugDescription) must have a key and at most \(maxMetadataBytes) bytes")
            }
            try checkNoNUL(key, field: field + ".key")
            try checkNoNUL(value, field: field + ".value")
        }
    }

    /// Free text may hold anything but U+0000: C code on the way (protobuf-c,
    /// and the peers' own stacks) would cut the string short at it.
    public static func checkNoNUL(_ text: String, field: String) throws(Failure) {
        guard !text.utf8.contains(0) else { throw Failure("\(field) \(text.debugDescription) contains a NUL byte") }
    }

    public static func checkTerm(_ term: UInt64, field: String = "term") throws(Failure) {
        guard term <= maxTerm else { throw Failure("\(field) \(term) is beyond 2^62") }
    }

    public static func check(_ registration: Registration) throws(Failure) {
        try checkNodeID(registration.nodeID)
        try checkAddress(host: registration.address.host, port: registration.address.port)
        try checkCapabilities(registration.capabilities)
        try checkMetadata(registration.metadata)
        if let cluster = registration.clusterID { try checkNodeID(cluster, field: "cluster_id") }
    }

    static func isIPv4(_ host: String) -> Bool {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCIIDigit) && Int(part)! <= 255
                && !(part.count > 1 && part.first == "0")
        }
    }

    static func isIPv6(_ host: String) -> Bool {
        guard host.contains(":"), host.count <= 45 else { return false }
        let groups = host.components(separatedByString: "::")
        guard groups.count <= 2 else { return false }
        let pieces = groups.flatMap { $0.isEmpty ? [] : $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init) }
        let hasEmbeddedIPv4 = pieces.last.map(isIPv4) ?? false
        let hexPieces = hasEmbeddedIPv4 ? pieces.dropLast() : pieces[...]
        let limit = hasEmbeddedIPv4 ? 6 : 8
        guard hexPieces.allSatisfy({ !$0.isEmpty && $0.count <= 4 && $0.allSatisfy(\.isHexDigit) }) else { return false }
        return groups.count == 2 ? hexPieces.count < limit : hexPieces.count == limit
    }

    static func isHostName(_ host: String) -> Bool {
        guard host.utf8.count <= 253 else { return false }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        // An all-numeric last label would make "256.1.1.1" a "name": such hosts must be IPv4.
        if let last = labels.last, last.allSatisfy(\.isASCIIDigit) { return false }
        return labels.allSatisfy { label in
            (1...63).contains(label.utf8.count) && label.first != "-" && label.last != "-"
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

extension String {
    /// Splits on a multi-character separator (no Foundation in the core).
    fileprivate func components(separatedByString separator: String) -> [String] {
        var result: [String] = []
        var rest = Substring(self)
        while let range = rest.firstRange(of: separator) {
            result.append(String(rest[..<range.lowerBound]))
            rest = rest[range.upperBound...]
        }
        result.append(String(rest))
        return result
    }
}
