internal import CProtos

/// A string field that is not UTF-8: protobuf-c does not check, proto3 does.
struct InvalidUTF8: Error {}

// Copies out of an unpacked protoc-c struct. Everything is copied (the C memory is freed
// right after mapping) except large bytes fields decoded as `WireBytes`, which adopt theirs.

/// protobuf-c NUL-terminates strings without checking for embedded NULs, so a
/// wire string containing U+0000 decodes truncated at it (see `CArena.string`).
func decodeString(_ c: UnsafePointer<CChar>?) throws -> String {
    guard let c else { return "" }
    guard let string = String(validatingCString: c) else { throw InvalidUTF8() }
    return string
}

func decodeStrings(_ c: UnsafePointer<UnsafeMutablePointer<CChar>?>?, count: Int) throws -> [String] {
    try UnsafeBufferPointer(start: c, count: count).map { try decodeString($0) }
}

func decodeBytes(_ c: ProtobufCBinaryData) -> [UInt8] {
    decodeArray(c.data, count: c.len)
}

/// A large field stays where protobuf-c unpacked it (see `WireBytes`).
func decodeWireBytes(_ c: ProtobufCBinaryData) -> WireBytes {
    WireBytes(unpacked: c.data, count: c.len)
}

/// One memcpy, whatever the size (16 MiB payloads come through here).
func decodeArray<T: BitwiseCopyable>(_ c: UnsafePointer<T>?, count: Int) -> [T] {
    guard let c, count > 0 else { return [] }
    return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
        UnsafeMutableRawPointer(buffer.baseAddress!)
            .copyMemory(from: c, byteCount: count * MemoryLayout<T>.stride)
        initialized = count
    }
}

extension ProtobufCBacked {
    /// A singular message field: NULL means absent.
    static func decode(_ c: UnsafePointer<CMessage>?) throws -> Self? {
        try c.map { try Self(c: $0.pointee) }
    }

    /// A repeated message field.
    static func decodeAll(_ c: UnsafePointer<UnsafeMutablePointer<CMessage>?>?, count: Int) throws -> [Self] {
        try UnsafeBufferPointer(start: c, count: count).map { try Self(c: $0!.pointee) }
    }
}
