import GossipRPC
import GossipWire

/// Our implementation of `grpc.testing.TestService`, following the gRPC
/// interop spec: payloads of zeros of the requested size, status and metadata
/// echo, `interval_us` pacing. `UnimplementedCall` is deliberately absent.
public enum TestServiceProvider {
    public typealias T = GRPCTesting
    static let echoInitialKey = "x-grpc-test-echo-initial"
    static let echoTrailingKey = "x-grpc-test-echo-trailing-bin"

    public static var service: Service { service() }

    /// `maxResponseBytes` caps the payload a client may ask for (`response_size`): eight
    /// requests for 150 MB each must not make the server build 1.2 GB of replies.
    public static func service(maxResponseBytes: Int = 4 << 20) -> Service {
        let unaryCall = { @Sendable (request: T.SimpleRequest, context: ServerContext) async throws -> T.SimpleResponse in
            try await Self.unaryCall(request, context, maxResponseBytes: maxResponseBytes)
        }
        var service = Service(name: TestServiceClient.service)
        service.unary("EmptyCall") { (_: T.Empty, _) in T.Empty() }
        service.unary("UnaryCall", unaryCall)
        service.unary("CacheableUnaryCall", unaryCall)
        service.serverStreaming("StreamingOutputCall") { (request: T.StreamingOutputCallRequest, writer, context) in
            echoMetadata(context)
            try await respond(to: request, with: writer, maxResponseBytes: maxResponseBytes)
            try check(request.responseStatus)
        }
        service.clientStreaming("StreamingInputCall") { (requests: RequestStream<T.StreamingInputCallRequest>, context) in
            echoMetadata(context)
            var total = 0
            for try await request in requests { total += request.payload?.body.count ?? 0 }
            return T.StreamingInputCallResponse(aggregatedPayloadSize: Int32(total))
        }
        service.bidirectionalStreaming("FullDuplexCall") {
            (requests: RequestStream<T.StreamingOutputCallRequest>, writer, context) in
            echoMetadata(context)
            for try await request in requests {
                try check(request.responseStatus)
                try await respond(to: request, with: writer, maxResponseBytes: maxResponseBytes)
            }
        }
        service.bidirectionalStreaming("HalfDuplexCall") {
            (requests: RequestStream<T.StreamingOutputCallRequest>, writer, context) in
            echoMetadata(context)
            var buffered: [T.StreamingOutputCallRequest] = []
            for try await request in requests { buffered.append(request) }
            for request in buffered {
                try check(request.responseStatus)
                try await respond(to: request, with: writer, maxResponseBytes: maxResponseBytes)
            }
        }
        return service
    }

    static func unaryCall(_ request: T.SimpleRequest, _ context: ServerContext, maxResponseBytes: Int) async throws -> T.SimpleResponse {
        echoMetadata(context)
        try check(request.responseStatus)
        try checkResponseSize(Int(request.responseSize), limit: maxResponseBytes)
        return T.SimpleResponse(payload: T.Payload(body: [UInt8](repeating: 0, count: Int(request.responseSize))))
    }

    private static func checkResponseSize(_ size: Int, limit: Int) throws {
        guard size >= 0 else { throw RPCError(.invalidArgument, "negative response size") }
        guard size <= limit else {
            throw RPCError(.resourceExhausted, "response size \(size) exceeds this server's limit of \(limit) bytes")
        }
    }

    private static func respond(
        to request: T.StreamingOutputCallRequest, with writer: ResponseWriter<T.StreamingOutputCallResponse>,
        maxResponseBytes: Int
    ) async throws {
        for parameters in request.responseParameters {
            if parameters.intervalUs > 0 { try await Task.sleep(for: .microseconds(Int(parameters.intervalUs))) }
            try checkResponseSize(Int(parameters.size), limit: maxResponseBytes)
            let body = [UInt8](repeating: 0, count: Int(parameters.size))
            try await writer.send(T.StreamingOutputCallResponse(payload: T.Payload(body: body)))
        }
    }

    /// Ends the call with the requested status, if the client asked for one.
    private static func check(_ status: T.EchoStatus?) throws {
        guard let status, status.code != 0 else { return }
        throw RPCError(StatusCode(rawValue: Int(status.code)), status.message)
    }

    private static func echoMetadata(_ context: ServerContext) {
        let metadata = context.requestMetadata
        if let initial = metadata[echoInitialKey] {
            context.setInitialMetadata(Metadata([(echoInitialKey, initial)]))
        }
        if let trailing = metadata.binary(echoTrailingKey) {
            var trailers = Metadata()
            trailers.add(echoTrailingKey, binary: trailing)
            context.setTrailingMetadata(trailers)
        }
    }
}
