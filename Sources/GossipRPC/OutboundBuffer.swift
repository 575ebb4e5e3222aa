/// Bytes waiting to go out on one HTTP/2 stream, then how the stream ends.
/// nghttp2 pulls from it through the data provider. Loop thread only.
final class OutboundBuffer {
    private var chunks: [[UInt8]] = []
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

    func append(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        chunks.append(bytes)
        bufferedBytes += bytes.count
        ledger?.queued += bytes.count
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
            let copied = chunks[head].withUnsafeBufferPointer { chunk -> Int in
                let n = min(chunk.count - offset, capacity - written)
                (destination + written).update(from: chunk.baseAddress! + offset, count: n)
                return n
            }
            written += copied
            offset += copied
            if offset == chunks[head].count {
                chunks[head] = []
                head += 1
                offset = 0
            }
        }
        if head == chunks.count {
            chunks.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 32 {
            chunks.removeFirst(head)
            head = 0
        }
        bufferedBytes -= written
        ledger?.queued -= written
        if !drainWaiters.isEmpty && bufferedBytes <= Self.lowWater { wakeWaiters() }
        return written
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

/// What all streams of one connection have queued for sending. Loop thread only.
final class OutboundLedger {
    var queued = 0
}
