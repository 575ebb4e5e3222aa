internal import CProtos

/// protobuf-c hands strings over NUL-terminated, so a wire string with an
/// embedded U+0000 would decode cut short ("base-1\0evil" as "base-1"). The
/// length is gone after unpacking, so this walks the wire bytes themselves,
/// guided by the descriptors, and names every string field holding a 0 byte.
extension ProtobufCBacked {
    public static func stringFieldsContainingNUL(in bytes: UnsafeRawBufferPointer) -> [String] {
        var found: [String] = []
        EmbeddedNUL.scan(bytes, cDescriptor, path: "", depth: 0, into: &found)
        return found
    }
}

enum EmbeddedNUL {
    /// Stops quietly on anything malformed: protobuf-c already accepted these
    /// bytes, and this only reports what it can read.
    static func scan(_ bytes: UnsafeRawBufferPointer, _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>,
                     path: String, depth: Int, into found: inout [String]) {
        guard depth < 32 else { return }
        var position = 0
        while position < bytes.count {
            guard let tag = varint(bytes, &position) else { return }
            let number = UInt32(truncatingIfNeeded: tag >> 3)
            switch tag & 7 {
            case 0: guard varint(bytes, &position) != nil else { return }
            case 1: position += 8
            case 5: position += 4
            case 2:
                guard let length = varint(bytes, &position), length <= UInt64(bytes.count - position) else { return }
                let value = UnsafeRawBufferPointer(rebasing: bytes[position..<position + Int(length)])
                position += Int(length)
                guard let field = protobuf_c_message_descriptor_get_field(descriptor, number) else { continue }
                let name = path + String(cString: field.pointee.name)
                if field.pointee.type == PROTOBUF_C_TYPE_STRING {
                    if value.contains(0), !found.contains(name) { found.append(name) }
                } else if field.pointee.type == PROTOBUF_C_TYPE_MESSAGE, let sub = field.pointee.descriptor {
                    scan(value, sub.assumingMemoryBound(to: ProtobufCMessageDescriptor.self),
                         path: name + ".", depth: depth + 1, into: &found)
                }
            default: return
            }
        }
    }

    private static func varint(_ bytes: UnsafeRawBufferPointer, _ position: inout Int) -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while position < bytes.count, shift < 64 {
            let byte = bytes[position]
            position += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        return nil
    }
}
