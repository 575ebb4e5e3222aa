internal import CProtos

/// A message whose wire codec is protobuf-c. Conforming types only map
/// fields between the Swift value and `CMessage` (the protoc-c struct); this
/// extension does the packing, unpacking and memory management.
protocol ProtobufCBacked: WireMessage {
    associatedtype CMessage

    /// The protoc-c `<message>__init` function: sets descriptor and defaults.
    static func cInit(_ c: UnsafeMutablePointer<CMessage>)

    /// Copies an unpacked C message into Swift. Throws `InvalidUTF8` for a
    /// string field protobuf-c accepted but proto3 does not.
    init(c: CMessage) throws

    /// Points the fields of an initialized `c` at memory owned by `arena`.
    func fill(_ c: UnsafeMutablePointer<CMessage>, in arena: CArena)
}

extension ProtobufCBacked {
    public init(decoding bytes: UnsafeRawBufferPointer) throws {
        self = try Self.withUnpacked(bytes) { unpacked in
            do {
                return try Self(c: UnsafeRawPointer(unpacked).load(as: CMessage.self))
            } catch {
                throw Self.malformed
            }
        }
    }

    /// The unknown fields protobuf-c kept while unpacking, in wire order and
    /// with repeats (a number sent twice is listed twice), at every depth:
    /// the message first, then each submessage in field order. Throws
    /// `WireError.malformed` when protobuf-c cannot unpack `bytes` (which
    /// includes a known field sent with the wrong wire type: upb would call
    /// it unknown). Strings are not checked for UTF-8 here; decoding does that.
    public static func unknownFieldNumbers(in bytes: UnsafeRawBufferPointer) throws -> [UInt32] {
        try withUnpacked(bytes) { unpacked in
            var tags: [UInt32] = []
            UnknownFields.collect(in: unpacked, into: &tags)
            return tags
        }
    }

    /// Runs `body` on protobuf-c's unpacked tree of `bytes`, then frees it.
    private static func withUnpacked<R>(
        _ bytes: UnsafeRawBufferPointer, _ body: (UnsafePointer<ProtobufCMessage>) throws -> R
    ) throws -> R {
        let data = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        var allocator = LargeBuffers.protobufAllocator
        guard let unpacked = protobuf_c_message_unpack(cDescriptor, &allocator, bytes.count, data) else {
            throw malformed
        }
        defer { protobuf_c_message_free_unpacked(unpacked, &allocator) }
        return try body(unpacked)
    }

    private static var malformed: WireError {
        .malformed(message: String(cString: cDescriptor.pointee.name))
    }

    public func encode() -> [UInt8] {
        var bytes: [UInt8] = []
        withPacked { size, pack in
            guard size > 0 else { return }
            bytes = [UInt8](unsafeUninitializedCapacity: size) { out, count in
                pack(out.baseAddress!)
                count = size
            }
        }
        return bytes
    }

    /// protobuf-c packs straight into the caller's memory: no intermediate array.
    public func encode(into allocate: (_ size: Int) -> UnsafeMutableRawPointer) {
        withPacked { size, pack in
            let destination = allocate(size)
            if size > 0 { pack(destination.assumingMemoryBound(to: UInt8.self)) }
        }
    }

    /// Builds the C tree (large arrays pinned, not copied) and hands `body` its packed size and
    /// a function that packs exactly that many bytes to a destination.
    private func withPacked(_ body: (_ size: Int, _ pack: (UnsafeMutablePointer<UInt8>) -> Void) -> Void) {
        CArena.scoped { arena in
            let c = arena.message(self)
            // `base` is the first member of every protoc-c struct.
            let message = UnsafeRawPointer(c).assumingMemoryBound(to: ProtobufCMessage.self)
            arena.withPinnedStorage {
                let size = protobuf_c_message_get_packed_size(message)
                body(size) { destination in
                    let count = protobuf_c_message_pack(message, destination)
                    precondition(count == size, "protobuf-c packed \(count) bytes, sized \(size)")
                }
            }
        }
    }

    /// The protoc-c descriptor, read from an initialized message because the
    /// address of the C global is not reliably available from Swift.
    static var cDescriptor: UnsafePointer<ProtobufCMessageDescriptor> {
        withUnsafeTemporaryAllocation(of: CMessage.self, capacity: 1) { buffer in
            let c = buffer.baseAddress!
            cInit(c)
            return UnsafeRawPointer(c).load(as: ProtobufCMessage.self).descriptor
        }
    }
}

/// Walks an unpacked protobuf-c tree, collecting unknown field numbers from
/// the message and every submessage (singular, repeated and map entries),
/// guided by the descriptors.
enum UnknownFields {
    static func collect(in message: UnsafePointer<ProtobufCMessage>, into tags: inout [UInt32]) {
        let header = message.pointee
        tags += UnsafeBufferPointer(start: header.unknown_fields, count: Int(header.n_unknown_fields)).map(\.tag)
        let descriptor = header.descriptor.pointee
        let base = UnsafeRawPointer(message)
        for field in UnsafeBufferPointer(start: descriptor.fields, count: Int(descriptor.n_fields))
        where field.type == PROTOBUF_C_TYPE_MESSAGE {
            if field.flags & UInt32(PROTOBUF_C_FIELD_FLAG_ONEOF.rawValue) != 0,
               base.load(fromByteOffset: Int(field.quantifier_offset), as: UInt32.self) != field.id {
                continue  // another member of the oneof is set; this pointer is not ours
            }
            if field.label == PROTOBUF_C_LABEL_REPEATED {
                let count = base.load(fromByteOffset: Int(field.quantifier_offset), as: Int.self)
                guard count > 0, let items = base.load(fromByteOffset: Int(field.offset),
                                                       as: UnsafePointer<UnsafePointer<ProtobufCMessage>?>?.self) else { continue }
                for item in UnsafeBufferPointer(start: items, count: count) {
                    if let item { collect(in: item, into: &tags) }
                }
            } else if let sub = base.load(fromByteOffset: Int(field.offset), as: UnsafePointer<ProtobufCMessage>?.self) {
                collect(in: sub, into: &tags)
            }
        }
    }
}
