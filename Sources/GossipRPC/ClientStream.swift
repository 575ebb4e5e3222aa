import CNGHTTP2

/// The state of one client call: what to send, what came back, how it ended.
/// Created by `Channel`, attached to a connection once one is ready.
final class ClientStream: @unchecked Sendable {
    // Invariant: stream state is touched on `loop` only; the caller-facing
    // surfaces (`responses`, `initialMetadata`, `status`) are thread-safe.
    let loop: EventLoop
    let path: String
    let options: CallOptions
    let deadline: ContinuousClock.Instant?
    let responses = AsyncMessageQueue<ReceivedMessage>()
    let initialMetadata = AsyncPromise<Metadata>()
    let status = AsyncPromise<RPCStatus>()

    private(set) var connection: ClientConnection?
    private(set) var streamID: Int32?
    let body = OutboundBuffer()
    private var deframer: MessageDeframer
    private var block: [(String, String)] = []
    private var blocksReceived = 0
    private var finished = false
    private var deadlineTimer: LoopTimer?
    /// DATA bytes received and not yet taken by the caller (see `InboundCredit`).
    private var heldInbound = 0

    /// A per-call receive limit is capped at the connection's inbound budget: a larger message could never complete.
    init(loop: EventLoop, path: String, options: CallOptions, maxReceiveMessageSize: Int, connectionBudget: Int) {
        self.loop = loop
        self.path = path
        self.options = options
        self.deadline = options.timeout.map { ContinuousClock.now + $0 }
        self.deframer = MessageDeframer(maxMessageSize: min(options.maxReceiveMessageSize ?? maxReceiveMessageSize, connectionBudget))
    }

    var isFinished: Bool { finished }

    /// Starts the deadline clock (loop).
    func armDeadline() {
        guard let timeout = options.timeout, !finished else { return }
        deadlineTimer = LoopTimer(loop: loop, after: timeout) { [self] in
            deadlineTimer = nil
            abort(RPCStatus(code: .deadlineExceeded, message: "deadline exceeded after \(timeout)"))
        }
    }

    /// Opens the HTTP/2 stream on a ready connection (loop).
    func attach(to connection: ClientConnection, headers: [(String, String)]) {
        guard !finished else { return }
        var headers = headers
        if let deadline {
            headers.append(("grpc-timeout", GRPCTimeout.format(max(deadline - .now, .nanoseconds(1)))))
        }
        headers += options.metadata.wireFields
        guard let id = connection.open(self, headers: headers) else {
            complete(RPCStatus(code: .unavailable, message: "connection cannot open new streams"))
            return
        }
        self.connection = connection
        streamID = id
        deframer.reservations = connection.receiveReservations
    }

    // MARK: caller actions (loop)

    func enqueue(_ message: FramedMessage) throws {
        // Sending on an ended call reports how it ended (e.g. UNAVAILABLE).
        if finished, case .success(let final)? = status.current { throw RPCError(status: final) }
        guard case .open = body.ending else { throw RPCError(.internal, "send after closeSend") }
        if let connection, !connection.hasOutboundRoom(for: message.count) {
            throw RPCError(.resourceExhausted, "the server is not reading: more than "
                           + "\(connection.limits.maxQueuedOutboundBytes) bytes are queued on this connection")
        }
        body.append(message)
        if let streamID { connection?.resumeData(stream: streamID) }
    }

    func closeSend() {
        guard case .open = body.ending else { return }
        body.ending = .endStream
        if let streamID { connection?.resumeData(stream: streamID) }
    }

    /// Ends the call locally (cancel or deadline) and resets the stream.
    func abort(_ status: RPCStatus) {
        guard !finished else { return }
        if let streamID { connection?.resetStream(streamID, errorCode: NGHTTP2_CANCEL) }
        complete(status)
    }

    // MARK: connection events (loop)

    func headerBlockBegan() { block.removeAll(keepingCapacity: true) }

    func header(name: String, value: String) { block.append((name, value)) }

    func headerBlockEnded(endStream: Bool) {
        blocksReceived += 1
        if blocksReceived == 1 {
            if let failure = checkResponseHead() {
                abort(failure)
                return
            }
            initialMetadata.succeed(metadata(of: block))
        }
        guard endStream else { return }
        complete(statusFromTrailers())
        // The server answered before taking the whole request (an early status): stop sending
        // it, as gRPC clients do, instead of pushing the rest into a stream nobody reads.
        if !body.endSent, let streamID { connection?.resetStream(streamID, errorCode: NGHTTP2_NO_ERROR) }
    }

    /// Non-nil when the first HEADERS is not a gRPC response.
    private func checkResponseHead() -> RPCStatus? {
        let httpStatus = block.first { $0.0 == ":status" }.flatMap { Int($0.1) } ?? 0
        if httpStatus != 200 {
            // gRPC answers always carry :status 200; anything else failed at the HTTP level.
            return RPCStatus(code: StatusCode.fromHTTPStatus(httpStatus), message: "HTTP status \(httpStatus)")
        }
        let contentType = block.first { $0.0 == "content-type" }?.1 ?? ""
        if !contentType.hasPrefix("application/grpc") {
            return RPCStatus(code: .unknown, message: "unexpected content-type \"\(contentType)\"")
        }
        return nil
    }

    private func statusFromTrailers() -> RPCStatus {
        guard let raw = block.first(where: { $0.0 == "grpc-status" })?.1, let code = Int(raw) else {
            return RPCStatus(code: .internal, message: "server ended the stream without grpc-status")
        }
        let message = block.first { $0.0 == "grpc-message" }.map { StatusMessageCoding.decode($0.1) } ?? ""
        return RPCStatus(code: StatusCode(rawValue: code), message: message, trailers: metadata(of: block))
    }

    private func metadata(of fields: [(String, String)]) -> Metadata {
        var metadata = Metadata()
        for (name, value) in fields where !Metadata.isReserved(name) {
            metadata.addWire(name: name, value: value)
        }
        return metadata
    }

    /// True when this call now holds the bytes (released as the caller takes responses, or at the end).
    func dataReceived(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard !finished else { return false }
        heldInbound += bytes.count
        do {
            try deframer.feed(bytes) { responses.yield($0) }
        } catch {
            let code: StatusCode = if case .tooLarge = error { .resourceExhausted } else { .internal }
            abort(RPCStatus(code: code, message: error.description))
        }
        return true
    }

    /// The caller took a response of `count` bytes (plus its prefix).
    func taken(_ count: Int) {
        releaseHeld(MessageFramer.prefixLength + count)
    }

    private func releaseHeld(_ count: Int) {
        let released = min(count, heldInbound)
        heldInbound -= released
        connection?.releaseInbound(released)
    }

    func remoteEndedWithoutTrailers() {
        complete(RPCStatus(code: .internal, message: "server ended the stream without trailers"))
    }

    func streamClosed(errorCode: UInt32) {
        body.releaseWaiters()
        guard !finished else { return }
        complete(Self.status(forReset: errorCode))
    }

    func connectionLost(_ reason: String) {
        complete(RPCStatus(code: .unavailable, message: reason))
    }

    /// gRPC's mapping of RST_STREAM codes to statuses.
    static func status(forReset code: UInt32) -> RPCStatus {
        switch code {
        case NGHTTP2_REFUSED_STREAM.rawValue:
            RPCStatus(code: .unavailable, message: "stream refused by server")
        case NGHTTP2_CANCEL.rawValue:
            RPCStatus(code: .cancelled, message: "stream cancelled by server")
        case NGHTTP2_ENHANCE_YOUR_CALM.rawValue:
            RPCStatus(code: .resourceExhausted, message: "server said enhance your calm")
        case NGHTTP2_INADEQUATE_SECURITY.rawValue:
            RPCStatus(code: .permissionDenied, message: "inadequate security")
        default:
            RPCStatus(code: .internal, message: "stream reset by server (HTTP/2 error \(code))")
        }
    }

    private func complete(_ final: RPCStatus) {
        guard !finished else { return }
        finished = true
        // The stream can receive nothing more: what is still queued is the caller's to read.
        releaseHeld(heldInbound)
        deadlineTimer?.cancel()
        deadlineTimer = nil
        body.releaseWaiters()
        initialMetadata.succeed(Metadata())
        if final.code == .ok { responses.finish() } else { responses.fail(RPCError(status: final)) }
        status.succeed(final)
        if let streamID { connection?.forget(streamID) }
    }
}
