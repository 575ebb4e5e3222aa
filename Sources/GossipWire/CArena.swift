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
        share(bytes, count: bytes.count, at: field.field(\.data))
    }

    /// Adopted bytes (`WireBytes`) are read where they are, like an array's storage.
    func setBytes(_ bytes: WireBytes, _ field: UnsafeMutablePointer<ProtobufCBinaryData>) {
        field.pointee.len = bytes.count
        share(bytes, count: bytes.count, at: field.field(\.data))
    }

    /// A repeated scalar field: its count and element-array slots.
    func setRepeated<T: BitwiseCopyable>(
        _ values: [T], count: UnsafeMutablePointer<Int>, elements: UnsafeMutablePointer<UnsafeMutablePointer<T>?>
    ) {
        count.pointee = values.count
        share(values, count: values.count, at: elements)
    }

    /// Makes `slot` point at the `count` values in `storage` during the pack: a copy if small,
    /// their own memory (pinned) if large.
    private func share<T: BitwiseCopyable>(
        _ storage: some PinnableBytes, count: Int, at slot: UnsafeMutablePointer<UnsafeMutablePointer<T>?>
    ) {
        guard count > 0 else { return slot.pointee = nil }
        let byteCount = count * MemoryLayout<T>.stride
        if byteCount < Self.pinThreshold || pins.count == Self.maxPins {
            let copy = allocate(T.self, count: count)
            storage.withUnsafeBytes { UnsafeMutableRawPointer(copy).copyMemory(from: $0.baseAddress!, byteCount: byteCount) }
            slot.pointee = copy
        } else {
            pins.append { inside in
                storage.withUnsafeBytes { memory in
                    // protobuf-c only reads through it: pack takes a const message.
                    slot.pointee = UnsafeMutablePointer(mutating: memory.baseAddress!.assumingMemoryBound(to: T.self))
                    inside()
                    slot.pointee = nil
                }
            }
        }
    }
}

/// Memory a field can point at while it is packed: an array's storage or adopted bytes.
protocol PinnableBytes {
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}

extension Array: PinnableBytes {}
extension WireBytes: PinnableBytes {}

extension UnsafeMutablePointer {
    /// The stable address of a stored member of the pointee (protoc-c structs
    /// only have stored members, so this never fails).
    func field<F>(_ path: WritableKeyPath<Pointee, F>) -> UnsafeMutablePointer<F> {
        pointer(to: path)!
    }
}
