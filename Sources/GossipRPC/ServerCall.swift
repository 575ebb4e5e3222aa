/// One server-side RPC on one HTTP/2 stream: collects the request headers,
/// splits DATA into messages, runs the handler task and writes the response.
final class ServerCall: @unchecked Sendable {
    // Invariant: mutable state is touched on `loop` only. Handler-facing methods
    // hop there first; the `*Snapshot` values are written once, before the
    // handler task starts, and only read afterwards.
    let stream: Int32
    let connection: ServerConnection
    var loop: EventLoop { connection.loop }

    private var method = ""
    private var contentType = ""
    private var timeoutHeader: String?
    private var encoding: String?
    private var headerBytes = 0
    private var invalidHeader: String?
    private(set) var pathSnapshot = ""
    private(set) var requestMetadataSnapshot = Metadata()
    private(set) var deadlineSnapshot: ContinuousClock.Instant?

    private var handler: RPCHandler?
    private var deframer: MessageDeframer
    private var singleRequest: ReceivedMessage?
    private var requests: AsyncMessageQueue<ReceivedMessage>?
    private var task: Task<Void, Never>?
    private let body = OutboundBuffer()
    private var responseHeadersSent = false
    private var initialMetadata = Metadata()
    private var trailingMetadata = Metadata()
    private var finished = false
    private var remoteClosed = false
    private var streamGone = false
    private var deadlineTimer: LoopTimer?
    /// DATA bytes received and not yet handed to the handler (see `InboundCredit`).
    private var heldInbound = 0

    /// Header lists above this are refused (the client was told in SETTINGS).
    static let maxHeaderListSize = 16 << 10

    init(stream: Int32, connection: ServerConnection) {
        self.stream = stream
        self.connection = connection
        self.deframer = MessageDeframer(maxMessageSize: connection.server.config.maxReceiveMessageSize,
                                        reservations: connection.receiveReservations)
    }

    // MARK: request side (loop)

    /// False once the header list is over the limit: nghttp2 then resets the stream and skips the
    /// rest of the block, so a block that references one large table entry thousands of times
    /// (an HPACK bomb) costs no string building here.
    func addHeader(name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) -> Bool {
        headerBytes += name.count + value.count + 32
        if headerBytes > Self.maxHeaderListSize {
            invalidHeader = "request headers exceed \(Self.maxHeaderListSize) bytes"
            return false
        }
        let key = String(decoding: name, as: UTF8.self)
        let text = String(decoding: value, as: UTF8.self)
        switch key {
        case ":path": pathSnapshot = text
        case ":method": method = text
        case "content-type": contentType = text
        case "grpc-timeout": timeoutHeader = text
        case "grpc-encoding": encoding = text
        default:
            if !Metadata.isReserved(key), !requestMetadataSnapshot.addWire(name: key, value: text) {
                invalidHeader = "metadata \(key) is not valid base64"
            }
        }
        return true
    }

    func headersEnded(endStream: Bool) {
        guard handler == nil, !finished else { return }
        if let rejection = validateHead() {
            finish(rejection)
            return
        }
        if let timeoutHeader {
            guard let timeout = GRPCTimeout.parse(timeoutHeader) else {
                finish(RPCStatus(code: .internal, message: "malformed grpc-timeout: \(timeoutHeader)"))
                return
            }
            deadlineSnapshot = .now + timeout
            deadlineTimer = LoopTimer(loop: loop, after: timeout) { [self] in
                deadlineTimer = nil
                task?.cancel()
                finish(RPCStatus(code: .deadlineExceeded, message: "deadline exceeded"))
            }
        }
        guard let handler = connection.server.handler(for: pathSnapshot) else {
            finish(connection.server.unimplementedStatus(for: pathSnapshot))
            return
        }
        self.handler = handler
        if let limit = handler.maxRequestBytes, limit < deframer.maxMessageSize {
            deframer = MessageDeframer(maxMessageSize: limit, reservations: connection.receiveReservations)
        }
        if !handler.kind.waitsForRequest {
            requests = AsyncMessageQueue()
            start(handler, request: nil)
        }
        if endStream { remoteEnded() }
    }

    /// Nil when the request may proceed, else the status to refuse it with.
    private func validateHead() -> RPCStatus? {
        if let invalidHeader { return RPCStatus(code: .internal, message: invalidHeader) }
        if method != "POST" { return RPCStatus(code: .internal, message: "gRPC requires POST, got \(method)") }
        if !(contentType == "application/grpc" || contentType.hasPrefix("application/grpc+")
            || contentType.hasPrefix("application/grpc;")) {
            return RPCStatus(code: .internal, message: "unsupported content-type \"\(contentType)\"")
        }
        if let encoding, encoding != "identity" {
            return RPCStatus(code: .unimplemented, message: "grpc-encoding \(encoding) is not supported",
                             trailers: Metadata([("grpc-accept-encoding", "identity")]))
        }
        return nil
    }

    /// True when this call now holds the bytes (released as the handler takes messages, or at the end).
    func dataReceived(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard !finished else { return false }
        guard let handler else {
            finish(RPCStatus(code: .internal, message: "DATA before request headers"))
            return false
        }
        heldInbound += bytes.count
        do {
            try deframer.feed(bytes) { message in deliver(message, kind: handler.kind) }
        } catch {
            let code: StatusCode = if case .tooLarge = error { .resourceExhausted } else { .internal }
            task?.cancel()
            finish(RPCStatus(code: code, message: error.description))
        }
        return true
    }

    /// The handler took a message of `count` bytes (plus its prefix), or the call dropped what it held.
    private func releaseHeld(_ count: Int) {
        let released = min(count, heldInbound)
        heldInbound -= released
        connection.releaseInbound(released)
    }

    private func deliver(_ message: ReceivedMessage, kind: RPCKind) {
        guard !finished else { return }
        if kind.waitsForRequest {
            guard singleRequest == nil else {
                finish(RPCStatus(code: .internal, message: "more than one request message for a unary request"))
                return
            }
            singleRequest = message
        } else {
            requests?.yield(message)
        }
    }

    func remoteEnded() {
        remoteClosed = true
        guard !finished, let handler else { return }
        guard deframer.isIdle else {
            finish(RPCStatus(code: .internal, message: "stream ended inside a message"))
            return
        }
        if handler.kind.waitsForRequest {
            guard let request = singleRequest else {
                finish(RPCStatus(code: .internal, message: "no request message for a unary request"))
                return
            }
            singleRequest = nil
            start(handler, request: request)
        } else {
            requests?.finish()
        }
    }

    /// The client reset the stream or the connection went away.
    func streamClosed(errorCode: UInt32) {
        streamGone = true
        releaseHeld(heldInbound)
        body.releaseWaiters()
        guard !finished else { return }
        finished = true
        // The timer's action holds this call: keeping the timer would keep the call forever.
        deadlineTimer?.cancel()
        deadlineTimer = nil
        task?.cancel()
        requests?.fail(RPCError(.cancelled, "call cancelled by the client"))
    }

    // MARK: handler

    private func start(_ handler: RPCHandler, request: ReceivedMessage?) {
        if let request { releaseHeld(MessageFramer.prefixLength + request.count) }
        let io = ServerCallIO(call: self, request: request)
        let loop = self.loop
        task = Task(executorPreference: loop) { [self] in
            let status: RPCStatus
            do {
                try await handler.run(io)
                status = .ok
            } catch let error as RPCError {
                status = error.status
            } catch is CancellationError {
                status = RPCStatus(code: .cancelled, message: "handler cancelled")
            } catch {
                // Not an RPCError: an internal failure whose text may reveal paths or state.
                // The client learns only that it happened; the log keeps the details.
                connection.logger.error("\(pathSnapshot) failed: \(error)")
                status = RPCStatus(code: .unknown, message: "internal error")
            }
            loop.run { self.finish(status) }
        }
    }

    /// Next request message for streaming handlers; nil at end of stream.
    func nextRequest() async throws -> ReceivedMessage? {
        guard let requests else { return nil }
        do {
            let message = try await requests.next()
            if let message { loop.run { self.releaseHeld(MessageFramer.prefixLength + message.count) } }
            return message
        } catch is CancellationError {
            throw RPCError(.cancelled, "call cancelled")
        }
    }

    /// Queues one response message; waits while the stream's buffer is full, unless it is the
    /// call's last message (`final`): nothing follows it, so the handler may end at once and
    /// free what it built while the bytes wait for the peer.
    func send(_ message: FramedMessage, final: Bool = false) async throws {
        let full: Bool
        if loop.inLoop {
            full = try enqueue(message)
        } else {
            full = try await withCheckedThrowingContinuation { continuation in
                loop.execute { continuation.resume(with: Result { try self.enqueue(message) }) }
            }
        }
        guard full, !final else { return }
        await withCheckedContinuation { continuation in
            loop.run { self.body.whenDrained { continuation.resume() } }
        }
    }

    /// Returns true when the buffer is full and the caller should wait.
    private func enqueue(_ message: FramedMessage) throws -> Bool {
        guard !finished else { throw RPCError(.cancelled, "call already finished") }
        guard connection.hasOutboundRoom(for: message.count) else {
            throw RPCError(.resourceExhausted, "the client is not reading its responses: more than "
                           + "\(connection.limits.maxQueuedOutboundBytes) bytes are queued on this connection")
        }
        if !responseHeadersSent {
            responseHeadersSent = true
            connection.submitResponse(stream: stream, headers: responseHeaders(), body: body)
        }
        body.append(message)
        connection.resumeData(stream: stream)
        return body.isFull
    }

    func setInitialMetadata(_ metadata: Metadata) {
        if !responseHeadersSent { initialMetadata = metadata }
    }

    func setTrailingMetadata(_ metadata: Metadata) {
        trailingMetadata = metadata
    }

    private func responseHeaders() -> [(String, String)] {
        [(":status", "200"), ("content-type", "application/grpc")] + initialMetadata.wireFields
    }

    /// Ends the call with `status`: trailers after the messages, or a single
    /// trailers-only HEADERS frame when nothing was sent yet.
    func finish(_ status: RPCStatus) {
        guard !finished else { return }
        finished = true
        releaseHeld(heldInbound)
        deadlineTimer?.cancel()
        deadlineTimer = nil
        requests?.fail(RPCError(status.code == .ok ? .cancelled : status.code, "call finished"))
        guard !streamGone else { return }
        var trailers = [("grpc-status", String(status.code.rawValue))]
        if !status.message.isEmpty { trailers.append(("grpc-message", StatusMessageCoding.encode(status.message))) }
        trailers += trailingMetadata.wireFields + status.trailers.wireFields
        // The client may still be sending (e.g. an oversized message): stop it.
        if !remoteClosed { connection.resetAfterEndStream(stream) }
        if responseHeadersSent {
            body.ending = .trailers(trailers)
            connection.resumeData(stream: stream)
        } else {
            connection.submitTrailersOnly(stream: stream, headers: responseHeaders() + trailers)
        }
    }
}
