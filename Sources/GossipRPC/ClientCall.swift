import GossipWire

/// A method's typed identity: its HTTP/2 path and message types.
public struct MethodDescriptor<Request: WireMessage, Response: WireMessage>: Sendable {
    public let path: String

    /// `service` fully qualified ("grpc.testing.TestService"), `method` as in the proto.
    public init(service: String, method: String) {
        path = "/\(service)/\(method)"
    }
}

/// A unary response with the metadata that came with it.
public struct UnaryResponse<Response: WireMessage>: Sendable {
    public let message: Response
    public let initialMetadata: Metadata
    public let trailingMetadata: Metadata
}

/// A client call in progress: send requests, receive responses, read the
/// status. Works for every kind of method.
public struct ClientCall<Request: WireMessage, Response: WireMessage>: Sendable {
    let stream: ClientStream

    /// Sends one request; waits while the connection's send buffer is full.
    public func send(_ request: Request) async throws {
        let stream = self.stream
        let bytes = FramedMessage(request)
        let full = try await withCheckedThrowingContinuation { continuation in
            stream.loop.run {
                continuation.resume(with: Result {
                    try stream.enqueue(bytes)
                    return stream.body.isFull
                })
            }
        }
        guard full else { return }
        await withCheckedContinuation { continuation in
            stream.loop.run { stream.body.whenDrained { continuation.resume() } }
        }
    }

    /// Half-closes: no more requests.
    public func closeSend() {
        let stream = self.stream
        stream.loop.run { stream.closeSend() }
    }

    /// The next response, nil when the call ended OK; throws `RPCError` when it
    /// ended with another status.
    public func receive() async throws -> Response? {
        let bytes: ReceivedMessage?
        do {
            bytes = try await stream.responses.next()
        } catch is CancellationError {
            cancel()
            throw RPCError(.cancelled, "receive cancelled")
        }
        guard let bytes else { return nil }
        let stream = self.stream
        stream.loop.run { stream.taken(bytes.count) }
        do {
            return try bytes.withUnsafeBytes { try Response(decoding: $0) }
        } catch {
            let status = RPCStatus(code: .internal, message: "could not decode response: \(error)")
            let stream = self.stream
            stream.loop.run { stream.abort(status) }
            throw RPCError(status: status)
        }
    }

    /// Responses as an async sequence (ends, or throws `RPCError`, with the call).
    public var responses: AsyncThrowingStream<Response, Error> {
        AsyncThrowingStream { [self] in try await receive() }
    }

    /// The response headers' metadata (empty if the call ended without any).
    public func initialMetadata() async throws -> Metadata {
        try await stream.initialMetadata.value
    }

    /// How the call ended; waits for it.
    public func status() async -> RPCStatus {
        (try? await stream.status.value) ?? RPCStatus(code: .unknown, message: "no status")
    }

    /// Cancels the call: RST_STREAM(CANCEL) to the server, CANCELLED locally.
    public func cancel() {
        let stream = self.stream
        stream.loop.run { stream.abort(RPCStatus(code: .cancelled, message: "cancelled by client")) }
    }
}

extension Channel {
    /// Starts a call of any kind.
    public func makeCall<Request, Response>(
        _ method: MethodDescriptor<Request, Response>, options: CallOptions = CallOptions()
    ) -> ClientCall<Request, Response> {
        ClientCall(stream: startStream(path: method.path, options: options))
    }

    /// A unary call with the response metadata.
    public func unaryCall<Request, Response>(
        _ method: MethodDescriptor<Request, Response>, _ request: Request, options: CallOptions = CallOptions()
    ) async throws -> UnaryResponse<Response> {
        let call = makeCall(method, options: options)
        return try await withTaskCancellationHandler {
            try await call.send(request)
            call.closeSend()
            guard let response = try await call.receive() else {
                throw RPCError(.internal, "server sent no response message for a unary call")
            }
            guard try await call.receive() == nil else {
                call.cancel()
                throw RPCError(.internal, "server sent more than one response for a unary call")
            }
            let status = await call.status()
            return UnaryResponse(message: response, initialMetadata: try await call.initialMetadata(),
                                 trailingMetadata: status.trailers)
        } onCancel: {
            call.cancel()
        }
    }

    /// A unary call; returns the response message or throws `RPCError`.
    public func unary<Request, Response>(
        _ method: MethodDescriptor<Request, Response>, _ request: Request, options: CallOptions = CallOptions()
    ) async throws -> Response {
        try await unaryCall(method, request, options: options).message
    }

    /// A server-streaming call: sends `request`, then read responses from the call.
    public func serverStreaming<Request, Response>(
        _ method: MethodDescriptor<Request, Response>, _ request: Request, options: CallOptions = CallOptions()
    ) async throws -> ClientCall<Request, Response> {
        let call = makeCall(method, options: options)
        try await call.send(request)
        call.closeSend()
        return call
    }
}
