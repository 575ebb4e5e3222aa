import Glibc
import GossipWire
import Synchronization

// Where a large message's bytes are copied, and why each copy stays (1 MiB unary echo):
// receive  1. kernel -> the loop's read buffer (read(2); TLS: OpenSSL decrypts into an evbuffer)
//          2. nghttp2 DATA chunk -> the message's buffer (`MessageDeframer`): the read buffer is
//             reused at once, and protobuf-c needs the message contiguous
//          3. protobuf-c unpack -> its own copy of each bytes field: it has no aliasing mode
//          (large bytes fields are not copied again: `WireBytes` adopts protobuf-c's block; other
//          fields are copied into Swift values, `decodeArray`, and the tree is freed)
// send     1. Swift value -> protobuf-c pack into a `FramedMessage` after its prefix
//          then, plain TCP: by reference from that buffer to the kernel (NO_COPY DATA frames);
//          TLS: copied into nghttp2's frame buffer and the bufferevent, then encrypted (one
//          SSL_write per evbuffer piece would make every 9-byte frame header a TLS record).
// The handler's own work (building its response, e.g. the interop payload of zeros) comes on top.

/// One outbound gRPC message: the 5-byte prefix and the protobuf bytes in one allocation we own.
/// protobuf-c packs straight into it after the prefix, and on plain-text connections nghttp2's
/// DATA frames are handed to libevent as references into it (`HTTP2Connection.sendData`), so
/// the packing is the only copy before the kernel's.
public final class FramedMessage: @unchecked Sendable {
    // Invariant: written only inside `init`; read-only afterwards (libevent may read it from the
    // loop thread while it holds a reference).
    let base: UnsafeMutableRawPointer
    /// Prefix included.
    public let count: Int

    private init(base: UnsafeMutableRawPointer, count: Int) {
        self.base = base
        self.count = count
    }

    deinit { LargeBuffers.release(base) }

    public convenience init(_ message: some WireMessage) {
        var base: UnsafeMutableRawPointer?
        var size = 0
        message.encode { encodedSize in
            size = encodedSize
            base = Self.allocate(MessageFramer.prefixLength + encodedSize)
            return base! + MessageFramer.prefixLength
        }
        // A codec that never called back has nothing to say: an empty message.
        let storage = base ?? Self.allocate(MessageFramer.prefixLength)
        Self.writePrefix(storage, length: size)
        self.init(base: storage, count: MessageFramer.prefixLength + size)
    }

    /// Frames bytes already encoded (one copy; for raw payloads and tests).
    public convenience init(encoded bytes: [UInt8]) {
        let storage = Self.allocate(MessageFramer.prefixLength + bytes.count)
        Self.writePrefix(storage, length: bytes.count)
        bytes.withUnsafeBytes {
            if let source = $0.baseAddress {
                (storage + MessageFramer.prefixLength).copyMemory(from: source, byteCount: $0.count)
            }
        }
        self.init(base: storage, count: MessageFramer.prefixLength + bytes.count)
    }

    /// The message without its prefix.
    public var messageLength: Int { count - MessageFramer.prefixLength }

    /// Prefix and message, as wire bytes (a copy, for tests).
    public var bytes: [UInt8] { Array(UnsafeRawBufferPointer(start: base, count: count)) }

    private static func allocate(_ count: Int) -> UnsafeMutableRawPointer {
        LargeBuffers.allocate(count)
    }

    private static func writePrefix(_ storage: UnsafeMutableRawPointer, length: Int) {
        let prefix = storage.assumingMemoryBound(to: UInt8.self)
        prefix[0] = 0
        prefix[1] = UInt8(truncatingIfNeeded: length >> 24)
        prefix[2] = UInt8(truncatingIfNeeded: length >> 16)
        prefix[3] = UInt8(truncatingIfNeeded: length >> 8)
        prefix[4] = UInt8(truncatingIfNeeded: length)
    }
}

/// One inbound gRPC message (prefix stripped), deframed into memory it owns and decoded in
/// place by protobuf-c. The memory is allocated uninitialized: the deframer writes every byte
/// before the message is handed out.
public final class ReceivedMessage: @unchecked Sendable {
    // Invariant: mutated only by the deframer on the receiving loop before it is handed out
    // (the hand-off goes through a Mutex-guarded queue or a task start); immutable afterwards.
    private var base: UnsafeMutableRawPointer?
    /// The announced length.
    public let count: Int
    private(set) var filled = 0
    private var capacity: Int
    /// Sized at once from `LargeBuffers` (reusable), or grown with malloc/realloc.
    private let pooled: Bool
    /// Reserved from a connection's budget while partial, released when complete or dropped.
    private var reservation: ReceiveReservations?

    /// Without a reservation, memory grows with what arrives (from `initialCapacity`).
    init(count: Int, reservation: ReceiveReservations?, initialCapacity: Int) {
        self.count = count
        self.reservation = reservation
        capacity = reservation == nil ? min(count, initialCapacity) : count
        pooled = reservation != nil
        if pooled && capacity > 0 {
            base = LargeBuffers.allocate(capacity)
        } else if capacity > 0 {
            guard let memory = malloc(capacity) else { fatalError("out of memory receiving \(count) bytes") }
            base = memory
        }
        if count == 0 { releaseReservation() }
    }

    deinit {
        releaseReservation()
        if pooled { LargeBuffers.release(base) } else { free(base) }
    }

    var isComplete: Bool { filled == count }

    /// Appends up to what is missing; returns how many bytes were taken.
    func append(_ bytes: UnsafeRawBufferPointer) -> Int {
        let take = min(count - filled, bytes.count)
        guard take > 0, let source = bytes.baseAddress else { return 0 }
        if filled + take > capacity {
            // Unreserved: double (a realloc, which copies what arrived; the reserved path never does).
            capacity = min(count, max(capacity * 2, filled + take))
            guard let grown = realloc(base, capacity) else { fatalError("out of memory receiving \(count) bytes") }
            base = grown
        }
        (base! + filled).copyMemory(from: source, byteCount: take)
        filled += take
        if filled == count { releaseReservation() }
        return take
    }

    private func releaseReservation() {
        reservation?.release(count)
        reservation = nil
    }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: base, count: filled))
    }

    /// The message as an array (a copy, for tests and raw payloads).
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }
}

/// How many bytes a connection's partial messages may reserve at their announced size. A prefix
/// alone must not make us allocate what it announces (thousands of streams announcing 4 MiB
/// each would reserve gigabytes), so only while the total stays within `budget` (the
/// connection's inbound budget) is a message allocated whole; past it, a message's memory
/// grows with what arrives, as bytes that the inbound flow control already bounds.
public final class ReceiveReservations: Sendable {
    public let budget: Int
    private let reserved = Atomic<Int>(0)

    public init(budget: Int) { self.budget = budget }

    public var reservedBytes: Int { reserved.load(ordering: .relaxed) }

    func tryReserve(_ count: Int) -> Bool {
        var current = reserved.load(ordering: .relaxed)
        while current + count <= budget {
            let (exchanged, original) = reserved.compareExchange(
                expected: current, desired: current + count, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        return false
    }

    func release(_ count: Int) {
        reserved.subtract(count, ordering: .relaxed)
    }
}
