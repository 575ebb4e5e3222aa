internal import CProtos
#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// Owns the C memory a protoc-c struct tree points into while one message is
/// packed, and frees all of it when the pack is over.
///
/// Small arrays are copied into `calloc`ed memory. Large ones (payloads,
/// model values) are not copied: their slot is pointed at the Swift array's
/// own storage, which is only valid inside `withUnsafeBufferPointer`, so
/// `withPinnedStorage` nests one such call per large array around the pack.
final class CArena {
    /// Arrays at least this big are pinned rather than copied.
    static let pinThreshold = 16 * 1024
    /// Pins nest (one closure frame each): past this many, large arrays are
    /// copied too, so stack depth stays bounded whatever the message.
    static let maxPins = 64

    private var allocations: [UnsafeMutableRawPointer] = []
    private var pins: [(_ inside: () -> Void) -> Void] = []

    private init() {}

    /// Runs `body` with a fresh arena and frees everything it allocated.
    static func scoped<R>(_ body: (CArena) -> R) -> R {
        let arena = CArena()
        defer { arena.allocations.forEach { free($0) } }
        return body(arena)
    }

    /// Runs `body` (the pack) while every pinned array's storage is valid and
    /// its slot points at it.
    func withPinnedStorage<R>(_ body: () -> R) -> R {
        var result: R?
        pinAll(from: 0) { result = body() }
        return result!
    }

    private func pinAll(from index: Int, _ body: () -> Void) {
        guard index < pins.count else { return body() }
        let pin = pins[index]
        pin { pinAll(from: index + 1, body) }
    }

    /// Zeroed memory for `count` values of a C type, freed with the arena.
    func allocate<T>(_ type: T.Type, count: Int = 1) -> UnsafeMutablePointer<T> {
        guard let raw = calloc(max(count, 1), MemoryLayout<T>.stride) else {
            fatalError("out of memory allocating \(count) \(T.self)")
        }
        allocations.append(raw)
        return raw.bindMemory(to: T.self, capacity: max(count, 1))
    }

    // MARK: Messages

    func message<M: ProtobufCBacked>(_ value: M) -> UnsafeMutablePointer<M.CMessage> {
        let c = allocate(M.CMessage.self)
        M.cInit(c)
        value.fill(c, in: self)
        return c
    }

    /// NULL is protobuf-c's "field not present".
    func message<M: ProtobufCBacked>(_ value: M?) -> UnsafeMutablePointer<M.CMessage>? {
        value.map { message($0) }
    }

    /// A repeated message field as protoc-c's (count, array of pointers).
    func messages<M: ProtobufCBacked>(
        _ values: [M]
    ) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<M.CMessage>?>?) {
        guard !values.isEmpty else { return (0, nil) }
        let array = allocate(UnsafeMutablePointer<M.CMessage>?.self, count: values.count)
        for (i, value) in values.enumerated() {
            let c: UnsafeMutablePointer<M.CMessage> = message(value)  // the non-optional overload
            array[i] = c
        }
        return (values.count, array)
    }

    // MARK: Strings

    /// A NUL-terminated copy. protobuf-c measures strings with strlen, so a
    /// Swift string containing U+0000 is truncated at it: such strings are
    /// not representable on this wire layer.
    func string(_ value: String) -> UnsafeMutablePointer<CChar> {
        guard let c = value.withCString({ strdup($0) }) else { fatalError("out of memory copying a string") }
        allocations.append(c)
        return c
    }

    func strings(_ values: [String]) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) {
        guard !values.isEmpty else { return (0, nil) }
        let array = allocate(UnsafeMutablePointer<CChar>?.self, count: values.count)
        for (i, value) in values.enumerated() { array[i] = string(value) }
        return (values.count, array)
    }

    // MARK: Contiguous data

    func setBytes(_ bytes: [UInt8], _ field: UnsafeMutablePointer<ProtobufCBinaryData>) {
        field.pointee.len = bytes.count
        share(bytes, at: field.field(\.data))
    }

    /// A small field is copied; a large one is read in place during the pack.
    func setBytes(_ bytes: WireBytes, _ field: UnsafeMutablePointer<ProtobufCBinaryData>) {
        field.pointee.len = bytes.count
        guard !bytes.isEmpty else { return field.pointee.data = nil }
        if bytes.count < Self.pinThreshold || pins.count == Self.maxPins {
            let copy = allocate(UInt8.self, count: bytes.count)
            bytes.withUnsafeBytes { UnsafeMutableRawPointer(copy).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            field.pointee.data = copy
        } else {
            pins.append { inside in
                bytes.withUnsafeBytes { storage in
                    // protobuf-c only reads through it: pack takes a const message.
                    field.pointee.data = UnsafeMutablePointer(mutating: storage.baseAddress!.assumingMemoryBound(to: UInt8.self))
                    inside()
                    field.pointee.data = nil
                }
            }
        }
    }

    /// A repeated scalar field: its count and element-array slots.
    func setRepeated<T: BitwiseCopyable>(
        _ values: [T], count: UnsafeMutablePointer<Int>, elements: UnsafeMutablePointer<UnsafeMutablePointer<T>?>
    ) {
        count.pointee = values.count
        share(values, at: elements)
    }

    /// Makes `slot` point at `values` during the pack: a copy if small, the
    /// array's own storage (pinned) if large.
    private func share<T: BitwiseCopyable>(_ values: [T], at slot: UnsafeMutablePointer<UnsafeMutablePointer<T>?>) {
        guard !values.isEmpty else { return slot.pointee = nil }
        let byteCount = values.count * MemoryLayout<T>.stride
        if byteCount < Self.pinThreshold || pins.count == Self.maxPins {
            let copy = allocate(T.self, count: values.count)
            values.withUnsafeBytes {
                UnsafeMutableRawPointer(copy).copyMemory(from: $0.baseAddress!, byteCount: byteCount)
            }
            slot.pointee = copy
        } else {
            pins.append { inside in
                values.withUnsafeBufferPointer { storage in
                    // protobuf-c only reads through it: pack takes a const message.
                    slot.pointee = UnsafeMutablePointer(mutating: storage.baseAddress)
                    inside()
                    slot.pointee = nil
                }
            }
        }
    }
}

extension UnsafeMutablePointer {
    /// The stable address of a stored member of the pointee (protoc-c structs
    /// only have stored members, so this never fails).
    func field<F>(_ path: WritableKeyPath<Pointee, F>) -> UnsafeMutablePointer<F> {
        pointer(to: path)!
    }
}
