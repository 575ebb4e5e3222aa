import CEvent
import Glibc

/// Plain TCP connections read their socket themselves, in bites of up to the loop's scratch
/// buffer, fed straight to nghttp2. libevent 2.1's evbuffer_read takes at most 4 KiB per call
/// (EVBUFFER_MAX_READ), so a bufferevent made every MiB received cost 256 wake-ups, each an
/// epoll_wait, an ioctl(FIONREAD) and a readv. TLS keeps the OpenSSL bufferevent. Loop thread only.
extension HTTP2Connection {
    /// Reads per wake-up before other connections on the loop get their turn.
    static let readsPerWakeup = 4

    func startReadingSocket(_ fd: Int32) {
        guard readEvent == nil else { return }
        let me = Unmanaged.passUnretained(self).toOpaque()
        readEvent = event_new(loop.base, fd, Int16(EV_READ | EV_PERSIST), { fd, _, ctx in
            Unmanaged<HTTP2Connection>.fromOpaque(ctx!).takeUnretainedValue().socketReadable(fd)
        }, me)
        if let readEvent { event_add(readEvent, nil) }
    }

    func stopReadingSocket() {
        if let readEvent { event_del(readEvent) }
    }

    private func socketReadable(_ fd: Int32) {
        let scratch = loop.readScratch
        for _ in 0..<Self.readsPerWakeup {
            guard !isClosed else { return }
            let n = Glibc.read(fd, scratch.baseAddress, scratch.count)
            if n > 0 {
                guard ingest(UnsafeRawBufferPointer(rebasing: scratch[0..<n])) else { return }
                if n < scratch.count { break }
                continue
            }
            if n == 0 {
                close(reason: "connection closed by peer")
                return
            }
            let code = errno
            if code == EAGAIN || code == EWOULDBLOCK || code == EINTR { break }
            close(reason: String(cString: strerror(code)))
            return
        }
        flush()
    }
}
