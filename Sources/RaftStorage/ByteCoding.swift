/// Little-endian encoding helpers shared by the WAL and snapshot formats.

extension Array where Element == UInt8 {
    mutating func appendLittleEndian(_ value: UInt8) { append(value) }
    mutating func appendLittleEndian(_ value: UInt32) { Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) } }
    mutating func appendLittleEndian(_ value: UInt64) { Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) } }

    mutating func overwriteLittleEndian(_ value: UInt32, at offset: Int) {
        Swift.withUnsafeBytes(of: value.littleEndian) { source in
            for i in 0..<4 { self[offset + i] = source[i] }
        }
    }

    /// A UInt32 length, then the UTF-8 bytes.
    mutating func appendLengthPrefixed(_ string: String) {
        let utf8 = Array(string.utf8)
        appendLittleEndian(UInt32(utf8.count))
        append(contentsOf: utf8)
    }
}

/// Why bytes that passed their checksum still do not decode (a format bug or another version).
struct MalformedBytes: Error {
    let reason: String
}

/// Reads little-endian fields from a buffer, failing instead of reading past its end.
struct ByteReader {
    private let buffer: UnsafeRawBufferPointer
    private(set) var position: Int

    init(_ buffer: UnsafeRawBufferPointer) {
        self.buffer = buffer
        self.position = 0
    }

    var remaining: Int { buffer.count - position }

    mutating func readUInt8() throws(MalformedBytes) -> UInt8 {
        try need(1, "a byte")
        defer { position += 1 }
        return buffer[position]
    }

    mutating func readUInt32() throws(MalformedBytes) -> UInt32 {
        try need(4, "a 32-bit integer")
        defer { position += 4 }
        return UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: position, as: UInt32.self))
    }

    mutating func readUInt64() throws(MalformedBytes) -> UInt64 {
        try need(8, "a 64-bit integer")
        defer { position += 8 }
        return UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: position, as: UInt64.self))
    }

    mutating func readBytes(_ count: Int) throws(MalformedBytes) -> [UInt8] {
        try need(count, "\(count) bytes")
        defer { position += count }
        return Array(buffer[position..<position + count])
    }

    mutating func readRest() -> [UInt8] {
        defer { position = buffer.count }
        return Array(buffer[position...])
    }

    mutating func readLengthPrefixedString() throws(MalformedBytes) -> String {
        let length = Int(try readUInt32())
        let bytes = try readBytes(length)
        return try Self.utf8String(bytes)
    }

    static func utf8String(_ bytes: [UInt8]) throws(MalformedBytes) -> String {
        guard let string = String(validating: bytes, as: UTF8.self) else {
            throw MalformedBytes(reason: "invalid UTF-8 in a string")
        }
        return string
    }

    func expectEnd() throws(MalformedBytes) {
        guard remaining == 0 else { throw MalformedBytes(reason: "\(remaining) unexpected trailing bytes") }
    }

    private func need(_ count: Int, _ what: String) throws(MalformedBytes) {
        guard count >= 0, remaining >= count else {
            throw MalformedBytes(reason: "ends before \(what) at offset \(position)")
        }
    }
}
