import CEvent
import CNGHTTP2
import COpenSSL
import Glibc
import Logging

/// One HTTP/2 connection: an nghttp2 session over a libevent bufferevent
/// (plain TCP or OpenSSL). Subclasses give it a role (server or client).
///
/// Everything here runs on `loop`'s thread. nghttp2 is driven with its
/// memory API: received bytes go in with `mem_recv`, and `flush()` moves what
/// nghttp2 wants to send into the bufferevent, coalesced once per loop tick.
class HTTP2Connection: @unchecked Sendable {
    // Invariant: confined to `loop`'s thread (the @unchecked is for handing
    // references to tasks that come back to the loop before touching state).
    let loop: EventLoop
    let isServer: Bool
    let peer: String
    var logger: Logger
    private(set) var session: OpaquePointer!
    private(set) var bev: OpaquePointer?
    /// Plain TCP: our own read event on the socket (see `HTTP2Connection+SocketRead.swift`).
    var readEvent: OpaquePointer?
    private var retained: Unmanaged<HTTP2Connection>?
    private(set) var isClosed = false
    private var tornDown = false
    private var flushScheduled = false
    private var closeWhenFlushed = false
    private var outbound: [Int32: OutboundBuffer] = [:]
    /// The DATA payload nghttp2 was told to send without copying (NO_COPY), until `sendData`
    /// writes it: nghttp2 sends one frame at a time, right after reading it.
    var pendingSlice: OutboundSlice?
    /// Plain TCP: we read the socket ourselves and DATA payloads go to libevent by reference.
    /// Over TLS each evbuffer piece becomes one SSL_write (a 9-byte TLS record per frame header),
    /// so there frames are copied whole, and the OpenSSL bufferevent reads.
    let isPlainTCP: Bool
    /// Frame payloads at least this long go out by reference; shorter ones are coalesced by copying.
    static let noCopyMinimum = 4 << 10
    /// Streams to reset with NO_ERROR once our END_STREAM frame is on the wire.
    private var resetAfterEnd: Set<Int32> = []
    private var keepaliveTimer: LoopTimer?
    private var pingTimeoutTimer: LoopTimer?
    private var handshakeTimer: LoopTimer?
    private var idleTimer: LoopTimer?
    private(set) var pingAcksReceived = 0
    /// The peer's first SETTINGS arrived: the TLS handshake and the HTTP/2 preface are done.
    private(set) var handshakeCompleted = false
    /// Stop pulling frames from nghttp2 while this much is waiting for the socket.
    private static let socketHighWater = 4 << 20
    private var inboundCredit: InboundCredit
    /// Whole-size allocations of partial inbound messages (see `MessageDeframer`).
    let receiveReservations: ReceiveReservations
    static let maxSingleRead = 256 << 10
    static let maxSingleWrite = 4 << 20
    /// Response or request bytes queued on this connection's streams, not yet taken by nghttp2.
    let outboundLedger = OutboundLedger()
    let limits: ConnectionLimits

    init(loop: EventLoop, bufferevent: OpaquePointer, isServer: Bool, peer: String, limits: ConnectionLimits, logger: Logger) {
        self.loop = loop
        self.isServer = isServer
        self.peer = peer
        self.logger = logger
        self.limits = limits
        self.bev = bufferevent
        isPlainTCP = bufferevent_openssl_get_ssl(bufferevent) == nil
        // libevent reads and writes at most 16 KiB per syscall by default: 64 round trips
        // through the loop for every MiB. Larger bites cost no copies (the evbuffer grows either
        // way); a write may take all that `flush` queued (at most `socketHighWater` and a frame).
        bufferevent_set_max_single_read(bufferevent, Self.maxSingleRead)
        bufferevent_set_max_single_write(bufferevent, Self.maxSingleWrite)
        inboundCredit = InboundCredit(budget: limits.maxBufferedInboundBytes)
        receiveReservations = ReceiveReservations(budget: limits.maxBufferedInboundBytes)
        let me = Unmanaged.passRetained(self)
        retained = me
        var option: OpaquePointer?
        nghttp2_option_new(&option)
        // gRPC peers (grpcio) keep many streams; nghttp2's default of 100 closed-stream
        // records is fine, but we lift the reserved remote stream limit for safety.
        nghttp2_option_set_max_reserved_remote_streams(option, 0)
        // We return flow-control credit ourselves, once the application took the bytes (InboundCredit).
        nghttp2_option_set_no_auto_window_update(option, 1)
        var session: OpaquePointer?
        let rv = isServer
            ? nghttp2_session_server_new2(&session, NGHTTP2Callbacks.shared.pointer, me.toOpaque(), option)
            : nghttp2_session_client_new2(&session, NGHTTP2Callbacks.shared.pointer, me.toOpaque(), option)
        nghttp2_option_del(option)
        precondition(rv == 0, "nghttp2 session creation failed: \(rv)")
        self.session = session
        bufferevent_setcb(bufferevent, { _, ctx in
            Unmanaged<HTTP2Connection>.fromOpaque(ctx!).takeUnretainedValue().handleReadable()
        }, { _, ctx in
            Unmanaged<HTTP2Connection>.fromOpaque(ctx!).takeUnretainedValue().handleWritable()
        }, { _, what, ctx in
            Unmanaged<HTTP2Connection>.fromOpaque(ctx!).takeUnretainedValue().handleEvent(what)
        }, me.toOpaque())
    }

    /// Sends our SETTINGS and starts reading. Call once the socket is usable.
    /// 100 concurrent streams (the RFC 9113 minimum recommendation, as nginx and Go's default
    /// order of magnitude): each running handler may hold a request and a response.
    func startSession(maxConcurrentStreams: UInt32 = 100, initialWindowSize: UInt32 = 1 << 20,
                      connectionWindowSize: Int32 = 16 << 20) {
        guard !isClosed, let bev else { return }
        var settings = [
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue),
                                   value: maxConcurrentStreams),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue),
                                   value: initialWindowSize),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE.rawValue),
                                   value: 16 << 10),
        ]
        if !isServer { settings.removeFirst() }
        nghttp2_submit_settings(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), &settings, settings.count)
        nghttp2_session_set_local_window_size(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0, connectionWindowSize)
        if isPlainTCP {
            // Our read event is the socket's only reader: two would split the byte stream.
            bufferevent_disable(bev, Int16(EV_READ))
            bufferevent_enable(bev, Int16(EV_WRITE))
            startReadingSocket(bufferevent_getfd(bev))
        } else {
            bufferevent_enable(bev, Int16(EV_READ | EV_WRITE))
        }
        flush()
    }

    // MARK: hooks for the role

    func headersBegan(stream: Int32) {}
    /// Returns false to reset the stream (bad or oversized header).
    func header(stream: Int32, name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) -> Bool { true }
    func headersEnded(stream: Int32, endStream: Bool) {}
    /// Returns true when a call now holds the bytes and will `releaseInbound` them;
    /// false when they were dropped (unknown or finished stream).
    func dataReceived(stream: Int32, bytes: UnsafeRawBufferPointer) -> Bool { false }
    func remoteEnded(stream: Int32) {}
    func streamClosed(stream: Int32, errorCode: UInt32) {}
    func goAwayReceived(lastStreamID: Int32, errorCode: UInt32) {}
    func didConnect() {}
    func didClose(reason: String) {}

    // MARK: submitting frames

    // MARK: flow control and budgets

    /// The application took (or dropped) `count` bytes a call held: they may go back to the peer.
    func releaseInbound(_ count: Int) {
        guard count > 0 else { return }
        inboundCredit.released(count)
        returnInboundCredit()
    }

    private func returnInboundCredit() {
        guard !isClosed, let credit = inboundCredit.takeReturnable() else { return }
        for (stream, bytes) in credit.streams { nghttp2_session_consume(session, stream, bytes) }
        if credit.connectionOnly > 0 { nghttp2_session_consume_connection(session, credit.connectionOnly) }
        scheduleFlush()
    }

    /// Bytes received and not yet taken by the application (for tests and status).
    var bufferedInboundBytes: Int { inboundCredit.held }

    /// Whether `count` more bytes may be queued for sending: a peer that stops reading
    /// (zero windows) must not make us hold unbounded responses.
    func hasOutboundRoom(for count: Int) -> Bool {
        outboundLedger.queued + count <= limits.maxQueuedOutboundBytes
    }

    private func register(_ body: OutboundBuffer, stream: Int32) {
        outbound[stream] = body
        body.attach(to: outboundLedger)
    }

    /// Submits response HEADERS and registers the stream's outbound data.
    func submitResponse(stream: Int32, headers: [(String, String)], body: OutboundBuffer) {
        guard !isClosed else { return }
        register(body, stream: stream)
        var provider = NGHTTP2Callbacks.dataProvider
        let rv = withHeaderBlock(headers) { nghttp2_submit_response(session, stream, $0, $1, &provider) }
        if rv != 0 { logger.debug("submit_response failed: \(Self.errorText(rv))") }
        scheduleFlush()
    }

    /// Submits a HEADERS frame that ends the stream (trailers-only response).
    func submitTrailersOnly(stream: Int32, headers: [(String, String)]) {
        guard !isClosed else { return }
        let rv = withHeaderBlock(headers) { nghttp2_submit_response(session, stream, $0, $1, nil) }
        if rv != 0 { logger.debug("submit_response failed: \(Self.errorText(rv))") }
        scheduleFlush()
    }

    /// Submits a request; returns its stream ID, or nil when nghttp2 refuses
    /// (e.g. stream IDs exhausted or GOAWAY received).
    func submitRequest(headers: [(String, String)], body: OutboundBuffer) -> Int32? {
        guard !isClosed else { return nil }
        var provider = NGHTTP2Callbacks.dataProvider
        let stream = withHeaderBlock(headers) { nghttp2_submit_request(session, nil, $0, $1, &provider, nil) }
        guard stream > 0 else { return nil }
        register(body, stream: stream)
        scheduleFlush()
        return stream
    }

    /// Tells nghttp2 that `stream` has new data or a new ending.
    func resumeData(stream: Int32) {
        guard !isClosed, let body = outbound[stream] else { return }
        if body.deferred {
            body.deferred = false
            nghttp2_session_resume_data(session, stream)
        }
        scheduleFlush()
    }

    /// After our side ends `stream`, tell the peer to stop sending (RST_STREAM
    /// NO_ERROR, RFC 9113 §8.1). Waiting for the END_STREAM frame to be sent
    /// keeps the reset from overtaking the response in nghttp2's queues.
    func resetAfterEndStream(_ stream: Int32) {
        guard !isClosed else { return }
        resetAfterEnd.insert(stream)
    }

    func resetStream(_ stream: Int32, errorCode: nghttp2_error_code) {
        guard !isClosed else { return }
        nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream, errorCode.rawValue)
        scheduleFlush()
    }

    /// GOAWAY: a shutdown notice first (server), then the final frame with the
    /// last stream we processed. Streams in flight may finish.
    func sendGoAway(final: Bool) {
        guard !isClosed else { return }
        if final || !isServer {
            let last = nghttp2_session_get_last_proc_stream_id(session)
            nghttp2_submit_goaway(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), last, NGHTTP2_NO_ERROR.rawValue, nil, 0)
        } else {
            nghttp2_submit_shutdown_notice(session)
        }
        scheduleFlush()
    }

    /// Ends the session with GOAWAY(`errorCode`); the connection closes once it is sent.
    func terminate(errorCode: nghttp2_error_code) {
        guard !isClosed else { return }
        nghttp2_session_terminate_session(session, errorCode.rawValue)
        scheduleFlush()
    }

    func sendPing() {
        guard !isClosed else { return }
        nghttp2_submit_ping(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), nil)
        scheduleFlush()
    }

    // MARK: keepalive

    func startKeepalive(_ keepalive: Keepalive) {
        keepaliveTimer?.cancel()
        keepaliveTimer = LoopTimer(loop: loop, after: keepalive.interval, repeating: true) { [unowned self] in
            guard !isClosed, pingTimeoutTimer == nil else { return }
            sendPing()
            pingTimeoutTimer = LoopTimer(loop: loop, after: keepalive.timeout) { [unowned self] in
                pingTimeoutTimer = nil
                logger.info("keepalive: no PING ack from \(peer) within \(keepalive.timeout); closing")
                close(reason: "keepalive timeout")
            }
        }
    }

    // MARK: timeouts

    /// Closes the connection unless the peer's SETTINGS (after TLS and the preface) arrive within
    /// `timeout`: a socket that never speaks HTTP/2 must not hold a file descriptor forever.
    func armHandshakeTimeout(_ timeout: Duration) {
        guard !handshakeCompleted, !isClosed else { return }
        handshakeTimer = LoopTimer(loop: loop, after: timeout) { [unowned self] in
            handshakeTimer = nil
            logger.debug("no HTTP/2 preface from \(peer) within \(timeout); closing")
            close(reason: "handshake timeout")
        }
    }

    /// (Re)starts the idle clock: after `timeout` without calls, GOAWAY and close.
    func armIdleTimeout(_ timeout: Duration) {
        idleTimer?.cancel()
        guard !isClosed else { return }
        idleTimer = LoopTimer(loop: loop, after: timeout) { [unowned self] in
            idleTimer = nil
            logger.debug("connection from \(peer) idle for \(timeout); closing")
            sendGoAway(final: true)
            flush()
            closeAfterFlush(reason: "idle timeout")
        }
    }

    func cancelIdleTimeout() {
        idleTimer?.cancel()
        idleTimer = nil
    }

    // MARK: I/O

    func scheduleFlush() {
        guard !flushScheduled, !isClosed else { return }
        flushScheduled = true
        loop.atEndOfTick { [self] in
            flushScheduled = false
            flush()
        }
    }

    /// Moves frames from nghttp2 to the socket until nghttp2 has nothing more
    /// or the socket's buffer is full (resumed by the write callback).
    func flush() {
        guard !isClosed, let bev else { return }
        let output = bufferevent_get_output(bev)
        while evbuffer_get_length(output) < Self.socketHighWater {
            var data: UnsafePointer<UInt8>?
            let n = nghttp2_session_mem_send(session, &data)
            if n < 0 {
                close(reason: "nghttp2 send failed: \(Self.errorText(Int32(n)))")
                return
            }
            if n == 0 { break }
            bufferevent_write(bev, data, n)
        }
        if nghttp2_session_want_read(session) == 0 && nghttp2_session_want_write(session) == 0 {
            closeAfterFlush(reason: "session finished")
        }
    }

    private func handleReadable() {
        guard !isClosed, let bev else { return }
        let input = bufferevent_get_input(bev)
        let total = evbuffer_get_length(input)
        guard total > 0 else { return }
        let chunkCount = evbuffer_peek(input, -1, nil, nil, 0)
        var ok = true
        withUnsafeTemporaryAllocation(of: iovec.self, capacity: Int(max(chunkCount, 1))) { vecs in
            let filled = evbuffer_peek(input, -1, nil, vecs.baseAddress, chunkCount)
            for i in 0..<Int(filled) where ok && !isClosed {
                ok = ingest(UnsafeRawBufferPointer(start: vecs[i].iov_base, count: vecs[i].iov_len))
            }
        }
        evbuffer_drain(input, total)
        if ok { flush() }
    }

    /// Feeds received bytes to nghttp2; false when it failed and the connection is closing.
    func ingest(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let rv = nghttp2_session_mem_recv(session, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count)
        guard rv < 0 else { return true }
        logger.debug("closing connection from \(peer): \(Self.errorText(Int32(rv)))")
        // nghttp2 may have queued a GOAWAY explaining why; send it, then close.
        if Int32(rv) != NGHTTP2_ERR_BAD_CLIENT_MAGIC.rawValue { flush() }
        closeAfterFlush(reason: Self.errorText(Int32(rv)))
        return false
    }

    private func handleWritable() {
        guard let bev else { return }
        if closeWhenFlushed {
            if evbuffer_get_length(bufferevent_get_output(bev)) == 0 { close(reason: "flushed before close") }
            return
        }
        flush()
    }

    private func handleEvent(_ what: Int16) {
        if Int32(what) & BEV_EVENT_CONNECTED != 0 {
            didConnect()
            return
        }
        guard !isClosed else { return }
        var reason = "connection closed by peer"
        if Int32(what) & BEV_EVENT_ERROR != 0 {
            reason = socketErrorText()
        } else if Int32(what) & BEV_EVENT_TIMEOUT != 0 {
            reason = "connection timed out"
        }
        close(reason: reason)
    }

    private func socketErrorText() -> String {
        if let bev {
            let sslError = bufferevent_get_openssl_error(bev)
            if sslError != 0 {
                var buffer = [CChar](repeating: 0, count: 256)
                ERR_error_string_n(sslError, &buffer, buffer.count)
                return "TLS: " + buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            }
        }
        let code = errno
        return code == 0 ? "connection error" : String(cString: strerror(code))
    }

    /// Closes once what is queued for the socket has been written (bounded).
    func closeAfterFlush(reason: String) {
        guard !isClosed, !closeWhenFlushed, let bev else { return }
        if evbuffer_get_length(bufferevent_get_output(bev)) == 0 {
            close(reason: reason)
            return
        }
        closeWhenFlushed = true
        bufferevent_disable(bev, Int16(EV_READ))
        stopReadingSocket()
        _ = LoopTimer(loop: loop, after: .seconds(2)) { [self] in close(reason: reason) }
    }

    /// Closes the connection now. Teardown waits for the end of the tick so no
    /// nghttp2 callback is running when the session is freed.
    func close(reason: String) {
        guard !isClosed else { return }
        isClosed = true
        keepaliveTimer?.cancel()
        pingTimeoutTimer?.cancel()
        pingTimeoutTimer = nil
        handshakeTimer?.cancel()
        handshakeTimer = nil
        cancelIdleTimeout()
        if let bev { bufferevent_disable(bev, Int16(EV_READ | EV_WRITE)) }
        stopReadingSocket()
        loop.atEndOfTick { [self] in teardown(reason: reason) }
    }

    private func teardown(reason: String) {
        guard !tornDown else { return }
        tornDown = true
        if let readEvent { event_free(readEvent) }
        readEvent = nil
        if let bev {
            bufferevent_setcb(bev, nil, nil, nil, nil)
            bufferevent_free(bev)
        }
        bev = nil
        nghttp2_session_del(session)
        session = nil
        let buffers = outbound
        outbound = [:]
        for buffer in buffers.values {
            buffer.detach()
            buffer.releaseWaiters()
        }
        didClose(reason: reason)
        retained?.release()
        retained = nil
    }

    /// For TLS connections: the identity in the peer's certificate, if it verified against our CA.
    var verifiedPeerIdentity: PeerIdentity? {
        guard let bev, let ssl = bufferevent_openssl_get_ssl(bev), let cert = gfl_ssl_verified_peer(ssl) else { return nil }
        defer { X509_free(cert) }
        return ClusterCertificates.identity(of: cert)
    }

    /// For TLS connections: whether ALPN settled on h2 (nil for plain TCP).
    var tlsNegotiatedH2: Bool? {
        guard let bev, let ssl = bufferevent_openssl_get_ssl(bev) else { return nil }
        return gfl_ssl_negotiated_h2(ssl) == 1
    }

    /// Disables Nagle once the socket exists (client sockets connect late).
    func setNoDelay() {
        guard let bev else { return }
        _ = gfl_set_nodelay(bufferevent_getfd(bev))
    }

    static func errorText(_ code: Int32) -> String {
        String(cString: nghttp2_strerror(code))
    }

    // MARK: nghttp2 callback entry points

    fileprivate func onFrameReceived(_ frame: UnsafePointer<nghttp2_frame>) {
        let hd = frame.pointee.hd
        let endStream = UInt32(hd.flags) & NGHTTP2_FLAG_END_STREAM.rawValue != 0
        switch UInt32(hd.type) {
        case NGHTTP2_HEADERS.rawValue:
            headersEnded(stream: hd.stream_id, endStream: endStream)
        case NGHTTP2_DATA.rawValue:
            if endStream { remoteEnded(stream: hd.stream_id) }
        case NGHTTP2_GOAWAY.rawValue:
            goAwayReceived(lastStreamID: frame.pointee.goaway.last_stream_id, errorCode: frame.pointee.goaway.error_code)
        case NGHTTP2_SETTINGS.rawValue where UInt32(hd.flags) & NGHTTP2_FLAG_ACK.rawValue == 0 && !handshakeCompleted:
            handshakeCompleted = true
            handshakeTimer?.cancel()
            handshakeTimer = nil
        case NGHTTP2_PING.rawValue:
            if UInt32(hd.flags) & NGHTTP2_FLAG_ACK.rawValue != 0 {
                pingAcksReceived += 1
                pingTimeoutTimer?.cancel()
                pingTimeoutTimer = nil
            }
        default:
            break
        }
    }

    fileprivate func onFrameSent(_ frame: UnsafePointer<nghttp2_frame>) {
        let hd = frame.pointee.hd
        guard UInt32(hd.flags) & NGHTTP2_FLAG_END_STREAM.rawValue != 0,
              resetAfterEnd.remove(hd.stream_id) != nil else { return }
        nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), hd.stream_id, NGHTTP2_NO_ERROR.rawValue)
        scheduleFlush()
    }

    fileprivate func onStreamClose(_ stream: Int32, errorCode: UInt32) {
        resetAfterEnd.remove(stream)
        if let body = outbound.removeValue(forKey: stream) {
            body.detach()
            body.releaseWaiters()
        }
        inboundCredit.streamClosed(stream)
        streamClosed(stream: stream, errorCode: errorCode)
        returnInboundCredit()
    }

    fileprivate func onDataChunk(stream: Int32, bytes: UnsafeRawBufferPointer) {
        inboundCredit.received(stream: stream, bytes.count)
        if !dataReceived(stream: stream, bytes: bytes) { inboundCredit.released(bytes.count) }
        returnInboundCredit()
    }

    fileprivate func readOutbound(stream: Int32, into buffer: UnsafeMutablePointer<UInt8>, length: Int,
                                  flags: UnsafeMutablePointer<UInt32>) -> Int {
        guard let body = outbound[stream] else { return Int(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue) }
        let n: Int
        if isPlainTCP, let slice = body.takeSlice(capacity: length, minimum: Self.noCopyMinimum) {
            pendingSlice = slice
            flags.pointee |= NGHTTP2_DATA_FLAG_NO_COPY.rawValue
            n = slice.count
        } else {
            // Copy 2 of 2 where it stays: small messages, and every frame over TLS.
            n = body.read(into: buffer, capacity: length)
        }
        guard body.bufferedBytes == 0 else { return n }
        switch body.ending {
        case .open:
            if n == 0 {
                body.deferred = true
                return Int(NGHTTP2_ERR_DEFERRED.rawValue)
            }
        case .endStream:
            flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
            body.endSent = true
        case .trailers(let trailers):
            flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue | NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue
            let rv = withHeaderBlock(trailers) { nghttp2_submit_trailer(session, stream, $0, $1) }
            if rv != 0 { logger.debug("submit_trailer failed: \(Self.errorText(rv))") }
            body.endSent = true
        }
        return n
    }
}

/// The callback table shared by every session (nghttp2 copies what it needs).
struct NGHTTP2Callbacks: @unchecked Sendable {
    // Invariant: built once, never mutated; nghttp2 only reads it.
    let pointer: OpaquePointer

    static let shared = NGHTTP2Callbacks()

    static var dataProvider: nghttp2_data_provider {
        nghttp2_data_provider(source: nghttp2_data_source(ptr: nil)) { _, stream, buffer, length, flags, _, ctx in
            NGHTTP2Callbacks.connection(ctx).readOutbound(stream: stream, into: buffer!, length: length, flags: flags!)
        }
    }

    private static func connection(_ ctx: UnsafeMutableRawPointer?) -> HTTP2Connection {
        Unmanaged<HTTP2Connection>.fromOpaque(ctx!).takeUnretainedValue()
    }

    private init() {
        var callbacks: OpaquePointer?
        nghttp2_session_callbacks_new(&callbacks)
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks) { _, frame, ctx in
            if let frame, UInt32(frame.pointee.hd.type) == NGHTTP2_HEADERS.rawValue {
                NGHTTP2Callbacks.connection(ctx).headersBegan(stream: frame.pointee.hd.stream_id)
            }
            return 0
        }
        nghttp2_session_callbacks_set_on_header_callback(callbacks) { _, frame, name, nameLength, value, valueLength, _, ctx in
            guard let frame else { return 0 }
            let ok = NGHTTP2Callbacks.connection(ctx).header(
                stream: frame.pointee.hd.stream_id,
                name: UnsafeBufferPointer(start: name, count: nameLength),
                value: UnsafeBufferPointer(start: value, count: valueLength))
            return ok ? 0 : NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue
        }
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks) { _, frame, ctx in
            if let frame { NGHTTP2Callbacks.connection(ctx).onFrameReceived(frame) }
            return 0
        }
        nghttp2_session_callbacks_set_on_frame_send_callback(callbacks) { _, frame, ctx in
            if let frame { NGHTTP2Callbacks.connection(ctx).onFrameSent(frame) }
            return 0
        }
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks) { _, _, stream, data, length, ctx in
            NGHTTP2Callbacks.connection(ctx).onDataChunk(stream: stream, bytes: UnsafeRawBufferPointer(start: data, count: length))
            return 0
        }
        nghttp2_session_callbacks_set_send_data_callback(callbacks) { _, frame, header, length, _, ctx in
            NGHTTP2Callbacks.connection(ctx).sendData(frame: frame!, header: header!, length: length)
        }
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks) { _, stream, errorCode, ctx in
            NGHTTP2Callbacks.connection(ctx).onStreamClose(stream, errorCode: errorCode)
            return 0
        }
        pointer = callbacks!
    }
}
