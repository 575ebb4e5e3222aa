/// Bytes waiting to go out on one HTTP/2 stream, then how the stream ends.
/// nghttp2 pulls from it through the data provider, as a copy into its frame buffer
/// (`read`) or as a piece of one message it sends without copying (`takeSlice`). Loop thread only.
final class OutboundBuffer {
    /// Sent messages are dropped (nil) at once: a consumed 16 MiB message must not wait for the rest.
    private var chunks: [FramedMessage?] = []
    private var head = 0
    private var offset = 0
    private(set) var bufferedBytes = 0
    /// How the local side ends the stream once the bytes are sent.
    enum Ending {
        case open
        /// END_STREAM on the last DATA frame (client half-close).
        case endStream
        /// A trailers HEADERS frame with END_STREAM (server status).
        case trailers([(String, String)])
    }
    var ending: Ending = .open
    /// Set while nghttp2 has this stream's data deferred for lack of bytes.
    var deferred = false
    /// Called once when buffered bytes drop to `lowWater` (write backpressure).
    private var drainWaiters: [() -> Void] = []
    /// The stream is over (ended, reset or gone): nobody may wait for it to drain any more.
    private var released = false
    /// nghttp2 has taken the last byte and the end of the stream (EOF flag given).
    var endSent = false
    static let highWater = 1 << 20
    static let lowWater = 256 << 10
    /// The connection's total, while the stream is registered with one.
    private var ledger: OutboundLedger?

    func append(_ message: FramedMessage) {
        chunks.append(message)
        bufferedBytes += message.count
        ledger?.queued += message.count
    }

    func attach(to ledger: OutboundLedger) {
        ledger.queued += bufferedBytes
        self.ledger = ledger
    }

    func detach() {
        ledger?.queued -= bufferedBytes
        ledger = nil
    }

    var isFull: Bool { bufferedBytes >= Self.highWater }

    func whenDrained(_ action: @escaping () -> Void) {
        // A sender may ask only after the call ended (the status arrived while it hopped to the
        // loop): its bytes will never drain, so it must not wait.
        if released || bufferedBytes <= Self.lowWater { action() } else { drainWaiters.append(action) }
    }

    /// Copies up to `capacity` bytes into `destination`; returns the count.
    func read(into destination: UnsafeMutablePointer<UInt8>, capacity: Int) -> Int {
        var written = 0
        while written < capacity && head < chunks.count {
            let chunk = chunks[head]!
            let n = min(chunk.count - offset, capacity - written)
            UnsafeMutableRawPointer(destination + written).copyMemory(from: chunk.base + offset, byteCount: n)
            written += n
            advance(n)
        }
        consumed(written)
        return written
    }

    /// A piece of one queued message of `minimum` to `capacity` bytes, taken off the buffer,
    /// to send without copying; nil when the next message has fewer than `minimum` left
    /// (small messages are better coalesced into one frame by `read`).
    func takeSlice(capacity: Int, minimum: Int) -> OutboundSlice? {
        guard head < chunks.count, capacity > 0 else { return nil }
        let chunk = chunks[head]!
        let n = min(chunk.count - offset, capacity)
        guard n >= min(minimum, capacity) else { return nil }
        let slice = OutboundSlice(message: chunk, offset: offset, count: n)
        advance(n)
        consumed(n)
        return slice
    }

    private func advance(_ n: Int) {
        offset += n
        if offset == chunks[head]!.count {
            chunks[head] = nil
            head += 1
            offset = 0
        }
    }

    private func consumed(_ n: Int) {
        if head == chunks.count {
            chunks.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 32 {
            chunks.removeFirst(head)
            head = 0
        }
        bufferedBytes -= n
        ledger?.queued -= n
        if !drainWaiters.isEmpty && bufferedBytes <= Self.lowWater { wakeWaiters() }
    }

    /// Wakes every backpressure waiter (data drained).
    private func wakeWaiters() {
        let waiters = drainWaiters
        drainWaiters = []
        for waiter in waiters { waiter() }
    }

    /// The stream is over: wakes every waiter, now and later.
    func releaseWaiters() {
        released = true
        wakeWaiters()
    }
}

/// Part of a queued message that nghttp2 will send as one DATA frame's payload.
struct OutboundSlice {
    let message: FramedMessage
    let offset: Int
    let count: Int
}

/// What all streams of one connection have queued for sending. Loop thread only.
final class OutboundLedger {
    var queued = 0
}
