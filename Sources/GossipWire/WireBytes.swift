/// A protobuf `bytes` field that can hold its bytes where protobuf-c unpacked them: a large
/// field (a model's values, a 1 MiB payload) is adopted from the unpacked tree instead of being
/// copied into a Swift array, so it reaches its reader with no copy after protobuf-c's own.
/// Small fields, and bytes built in Swift, are an ordinary array.
public struct WireBytes: Sendable, Hashable, RandomAccessCollection, ExpressibleByArrayLiteral {
    private enum Storage: Sendable {
        case array([UInt8])
        case adopted(AdoptedBlock)
    }

    private let storage: Storage

    public init(_ bytes: [UInt8]) { storage = .array(bytes) }
    public init(_ bytes: some Sequence<UInt8>) { storage = .array(Array(bytes)) }
    public init(arrayLiteral elements: UInt8...) { storage = .array(elements) }

    /// Below this, copying costs less than the bookkeeping.
    static let adoptionThreshold = 4096

    /// Takes `data` out of an unpacked tree when it is large and not taken yet; copies otherwise.
    init(unpacked data: UnsafeMutablePointer<UInt8>?, count: Int) {
        if let data, count >= Self.adoptionThreshold, LargeBuffers.adopt(data) {
            storage = .adopted(AdoptedBlock(base: data, count: count))
        } else {
            storage = .array(decodeArray(data, count: count))
        }
    }

    /// Whether the bytes are still where protobuf-c put them (for tests).
    public var isAdopted: Bool {
        if case .adopted = storage { true } else { false }
    }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch storage {
        case .array(let array): return try array.withUnsafeBytes(body)
        case .adopted(let block):
            return try withExtendedLifetime(block) { try body(UnsafeRawBufferPointer(start: block.base, count: block.count)) }
        }
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int {
        switch storage {
        case .array(let array): array.count
        case .adopted(let block): block.count
        }
    }

    public subscript(position: Int) -> UInt8 {
        precondition(position >= 0 && position < endIndex, "WireBytes index \(position) out of range")
        switch storage {
        case .array(let array): return array[position]
        case .adopted(let block): return block.base[position]
        }
    }

    public func withContiguousStorageIfAvailable<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R? {
        try withUnsafeBytes { try body($0.assumingMemoryBound(to: UInt8.self)) }
    }

    public static func == (lhs: WireBytes, rhs: WireBytes) -> Bool {
        lhs.withUnsafeBytes { l in rhs.withUnsafeBytes { r in l.elementsEqual(r) } }
    }

    public func hash(into hasher: inout Hasher) {
        withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}

extension WireBytes: CustomStringConvertible {
    public var description: String { "\(count) bytes" }
}

/// A block adopted from protobuf-c's unpacked tree (`LargeBuffers.adopt`), released with it.
final class AdoptedBlock: @unchecked Sendable {
    // Invariant: the bytes are written by protobuf-c before adoption and only read afterwards.
    let base: UnsafeMutablePointer<UInt8>
    let count: Int

    init(base: UnsafeMutablePointer<UInt8>, count: Int) {
        self.base = base
        self.count = count
    }

    deinit { LargeBuffers.release(base) }
}
