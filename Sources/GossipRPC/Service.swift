import GossipWire

/// How a method's messages flow.
public enum RPCKind: Sendable {
    case unary, serverStreaming, clientStreaming, bidirectionalStreaming

    /// Unary and server-streaming handlers start once the single request is in.
    var waitsForRequest: Bool { self == .unary || self == .serverStreaming }
}

/// A method handler on raw message bytes; `Service` builds these from typed closures.
struct RPCHandler: Sendable {
    let kind: RPCKind
    /// A receive limit below the server's, for methods whose messages are small.
    var maxRequestBytes: Int? = nil
    let run: @Sendable (ServerCallIO) async throws -> Void
}

/// What a raw handler reads and writes: the request(s), a response sink, the context.
struct ServerCallIO: Sendable {
    let call: ServerCall
    /// The single request, for unary and server-streaming methods.
    let request: ReceivedMessage?
    var context: ServerContext { ServerContext(call: call) }
}

/// A gRPC service: its full name and typed method handlers.
public struct Service: Sendable {
    public let name: String
    private(set) var handlers: [String: RPCHandler] = [:]

    /// `name` is the fully qualified service name, e.g. "grpc.testing.TestService".
    public init(name: String) {
        self.name = name
    }

    public var methodNames: [String] { handlers.keys.sorted() }

    /// Lowers the receive limit of every method registered so far to `bytes` (when below the
    /// server's): a larger request ends with RESOURCE_EXHAUSTED before it is buffered or decoded.
    public mutating func limitRequests(to bytes: Int) {
        for name in handlers.keys { handlers[name]?.maxRequestBytes = bytes }
    }

    /// Lowers one method's receive limit.
    public mutating func limitRequests(of method: String, to bytes: Int) {
        handlers[method]?.maxRequestBytes = bytes
    }

    /// A unary method. With `rejectingUnknownFields`, a request carrying fields
    /// the message does not define fails with INVALID_ARGUMENT instead of
    /// having them ignored (for services that must not guess).
    public mutating func unary<Request: WireMessage, Response: WireMessage>(
        _ method: String, rejectingUnknownFields: Bool = false,
        _ handler: @escaping @Sendable (Request, ServerContext) async throws -> Response
    ) {
        handlers[method] = RPCHandler(kind: .unary) { io in
            let request = try decode(Request.self, io.request, rejectingUnknownFields: rejectingUnknownFields)
            let response = try await handler(request, io.context)
            try await io.call.send(FramedMessage(response), final: true)
        }
    }

    public mutating func serverStreaming<Request: WireMessage, Response: WireMessage>(
        _ method: String,
        _ handler: @escaping @Sendable (Request, ResponseWriter<Response>, ServerContext) async throws -> Void
    ) {
        handlers[method] = RPCHandler(kind: .serverStreaming) { io in
            let request = try decode(Request.self, io.request)
            try await handler(request, ResponseWriter(call: io.call), io.context)
        }
    }

    public mutating func clientStreaming<Request: WireMessage, Response: WireMessage>(
        _ method: String,
        _ handler: @escaping @Sendable (RequestStream<Request>, ServerContext) async throws -> Response
    ) {
        handlers[method] = RPCHandler(kind: .clientStreaming) { io in
            let response = try await handler(RequestStream(call: io.call), io.context)
            try await io.call.send(FramedMessage(response), final: true)
        }
    }

    public mutating func bidirectionalStreaming<Request: WireMessage, Response: WireMessage>(
        _ method: String,
        _ handler: @escaping @Sendable (RequestStream<Request>, ResponseWriter<Response>, ServerContext) async throws -> Void
    ) {
        handlers[method] = RPCHandler(kind: .bidirectionalStreaming) { io in
            try await handler(RequestStream(call: io.call), ResponseWriter(call: io.call), io.context)
        }
    }
}

/// Decodes a request, mapping protobuf errors to INTERNAL as gRPC servers do.
/// Decodes in place: protobuf-c reads the deframer's buffer (its unpack copies bytes fields
/// out, and the Swift value copies them from protobuf-c's tree: two copies that stay, as the
/// C tree is freed right after and Swift arrays cannot adopt foreign memory).
func decode<Message: WireMessage>(_ type: Message.Type, _ received: ReceivedMessage?, rejectingUnknownFields: Bool = false) throws -> Message {
    guard let bytes = received else { throw RPCError(.internal, "no request message") }
    let message: Message
    do {
        message = try bytes.withUnsafeBytes { try Message(decoding: $0) }
    } catch {
        throw RPCError(.internal, "could not decode request: \(error)")
    }
    if rejectingUnknownFields {
        let unknown = try bytes.withUnsafeBytes { try Message.unknownFieldNumbers(in: $0) }
        if !unknown.isEmpty {
            let list = unknown.map(String.init).joined(separator: ", ")
            throw RPCError(.invalidArgument, "request has field(s) \(list) that \(Message.self) does not define")
        }
    }
    return message
}

/// The requests of a client- or bidirectional-streaming call.
public struct RequestStream<Message: WireMessage>: AsyncSequence, Sendable {
    let call: ServerCall

    public struct AsyncIterator: AsyncIteratorProtocol {
        let call: ServerCall

        public mutating func next() async throws -> Message? {
            guard let bytes = try await call.nextRequest() else { return nil }
            return try decode(Message.self, bytes)
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(call: call) }
}

/// Sends the responses of a server- or bidirectional-streaming call. `send`
/// waits while the peer is not reading (flow-control backpressure).
public struct ResponseWriter<Message: WireMessage>: Sendable {
    let call: ServerCall

    public func send(_ message: Message) async throws {
        try await call.send(FramedMessage(message))
    }
}

/// What a handler knows about its call, and the metadata it sends back.
public struct ServerContext: Sendable {
    let call: ServerCall

    public var requestMetadata: Metadata { call.requestMetadataSnapshot }
    /// The call's path, e.g. "/grpc.testing.TestService/UnaryCall".
    public var path: String { call.pathSnapshot }
    public var peer: String { call.connection.peer }
    /// When the client's deadline expires, if it sent one.
    public var deadline: ContinuousClock.Instant? { call.deadlineSnapshot }
    /// The caller's identity from its verified client certificate; nil when it sent none.
    public var peerIdentity: PeerIdentity? { call.connection.peerIdentity }
    /// False on a server that does not verify client certificates (plain text or `--insecure`):
    /// there every caller is trusted, and `authorize` lets everything through.
    public var verifiesClients: Bool { call.connection.verifiesClients }

    /// Metadata for the response headers; effective before the first message.
    public func setInitialMetadata(_ metadata: Metadata) {
        call.loop.run { call.setInitialMetadata(metadata) }
    }

    /// Metadata added to the trailers.
    public func setTrailingMetadata(_ metadata: Metadata) {
        call.loop.run { call.setTrailingMetadata(metadata) }
    }
}
