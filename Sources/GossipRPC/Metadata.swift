import Foundation

/// gRPC metadata: ordered (name, value) pairs. Names are lower-case ASCII; names
/// ending in `-bin` carry binary values, base64-encoded on the wire.
public struct Metadata: Sendable, Equatable, Sequence {
    public enum Value: Sendable, Equatable {
        case text(String)
        case binary([UInt8])
    }

    public struct Entry: Sendable, Equatable {
        public let name: String
        public let value: Value
    }

    public private(set) var entries: [Entry] = []

    public init() {}

    /// Text entries, in order.
    public init(_ pairs: [(String, String)]) {
        for (name, value) in pairs { add(name, value) }
    }

    public var isEmpty: Bool { entries.isEmpty }

    public mutating func add(_ name: String, _ text: String) {
        entries.append(Entry(name: name.lowercased(), value: .text(text)))
    }

    public mutating func add(_ name: String, binary: [UInt8]) {
        entries.append(Entry(name: name.lowercased(), value: .binary(binary)))
    }

    /// The first text value for `name`.
    public subscript(name: String) -> String? {
        let key = name.lowercased()
        for entry in entries where entry.name == key {
            if case .text(let text) = entry.value { return text }
        }
        return nil
    }

    /// The first binary value for `name` (a `-bin` key).
    public func binary(_ name: String) -> [UInt8]? {
        let key = name.lowercased()
        for entry in entries where entry.name == key {
            if case .binary(let bytes) = entry.value { return bytes }
        }
        return nil
    }

    public func makeIterator() -> IndexingIterator<[Entry]> { entries.makeIterator() }

    // MARK: wire form

    /// Header names that belong to HTTP/2 or gRPC itself, never to user metadata.
    static func isReserved(_ name: String) -> Bool {
        if name.hasPrefix(":") { return true }
        switch name {
        case "content-type", "te", "user-agent", "grpc-timeout", "grpc-encoding", "grpc-accept-encoding",
             "grpc-status", "grpc-message", "grpc-status-details-bin", "content-length", "host",
             "connection", "accept-encoding":
            return true
        default:
            return false
        }
    }

    /// Adds one received header; `-bin` values are base64-decoded (padded or not).
    /// Returns false for a `-bin` header whose value is not valid base64.
    @discardableResult
    mutating func addWire(name: String, value: String) -> Bool {
        if name.hasSuffix("-bin") {
            guard let bytes = Base64.decode(value) else { return false }
            entries.append(Entry(name: name, value: .binary(bytes)))
        } else {
            entries.append(Entry(name: name, value: .text(value)))
        }
        return true
    }

    /// The entries as HTTP/2 header fields.
    var wireFields: [(String, String)] {
        entries.map { entry in
            switch entry.value {
            case .text(let text): (entry.name, text)
            case .binary(let bytes): (entry.name, Base64.encode(bytes))
            }
        }
    }
}

enum Base64 {
    /// Unpadded, as gRPC implementations send it (receivers accept both).
    static func encode(_ bytes: [UInt8]) -> String {
        var text = Data(bytes).base64EncodedString()
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }

    static func decode(_ text: String) -> [UInt8]? {
        var padded = text.trimmingCharacters(in: .whitespaces)
        let remainder = padded.utf8.count % 4
        if remainder == 1 { return nil }
        if remainder > 0 { padded += String(repeating: "=", count: 4 - remainder) }
        guard let data = Data(base64Encoded: padded) else { return nil }
        return [UInt8](data)
    }
}
