/// A protobuf message with a Swift value type on one side and protobuf-c's
/// wire codec on the other.
public protocol WireMessage: Sendable, Equatable {
    /// Decodes protobuf wire bytes. Throws `WireError` on malformed input.
    init(decoding bytes: UnsafeRawBufferPointer) throws
    /// Encodes to protobuf wire bytes.
    func encode() -> [UInt8]
    /// Encodes into memory the caller owns: `allocate` is called once with the encoded size and
    /// returns where to write that many bytes (a framed buffer with room for a prefix, say).
    func encode(into allocate: (_ size: Int) -> UnsafeMutableRawPointer)
    /// Numbers of the fields in `bytes`, at any depth (submessages, repeated
    /// and map entries included), that the schema does not define. Decoding
    /// ignores them; strict services reject them.
    static func unknownFieldNumbers(in bytes: UnsafeRawBufferPointer) throws -> [UInt32]
    /// Dotted names of the string fields in `bytes`, at any depth, that hold
    /// a NUL byte: decoding cuts such strings short at it.
    static func stringFieldsContainingNUL(in bytes: UnsafeRawBufferPointer) -> [String]
}

extension WireMessage {
    /// One copy more than a codec that packs in place; for types without one.
    public func encode(into allocate: (_ size: Int) -> UnsafeMutableRawPointer) {
        let bytes = encode()
        let destination = allocate(bytes.count)
        bytes.withUnsafeBytes { if let base = $0.baseAddress { destination.copyMemory(from: base, byteCount: $0.count) } }
    }

    public static func unknownFieldNumbers(in bytes: UnsafeRawBufferPointer) throws -> [UInt32] { [] }
    public static func stringFieldsContainingNUL(in bytes: UnsafeRawBufferPointer) -> [String] { [] }
}

extension WireMessage {
    public init(decoding bytes: [UInt8]) throws {
        self = try bytes.withUnsafeBytes { try Self(decoding: $0) }
    }
}

/// Why bytes could not be decoded as a message.
public enum WireError: Error, Equatable, CustomStringConvertible {
    /// protobuf-c rejected the bytes as not a valid encoding of `message`.
    case malformed(message: String)

    public var description: String {
        switch self {
        case .malformed(let message): "malformed protobuf for \(message)"
        }
    }
}
