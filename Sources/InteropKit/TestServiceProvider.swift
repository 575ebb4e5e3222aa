import GossipRPC
import GossipWire

/// Our implementation of `grpc.testing.TestService`, following the gRPC
/// interop spec: payloads of zeros of the requested size, status and metadata
/// echo, `interval_us` pacing. `UnimplementedCall` is deliberately absent.
public enum TestServiceProvider {
    public typealias T = GRPCTesting
    static let echoInitialKey = "x-grpc-test-echo-initial"
    static let echoTrailingKey = "x-grpc-test-echo-trailing-bin"

    public static var service: Service {
        var service = Service(name: TestServiceClient.service)
        service.unary("EmptyCall") { (_: T.Empty, _) in T.Empty() }
        service.unary("UnaryCall", unaryCall)
        service.unary("CacheableUnaryCall", unaryCall)
        service.serverStreaming("StreamingOutputCall") { (request: T.StreamingOutputCallRequest, writer, context) in
            echoMetadata(context)
            try await respond(to: request, with: writer)
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
                try await respond(to: request, with: writer)
            }
        }
        service.bidirectionalStreaming("HalfDuplexCall") {
            (requests: RequestStream<T.StreamingOutputCallRequest>, writer, context) in
            echoMetadata(context)
            var buffered: [T.StreamingOutputCallRequest] = []
            for try await request in requests { buffered.append(request) }
            for request in buffered {
                try check(request.responseStatus)
                try await respond(to: request, with: writer)
            }
        }
        return service
    }

    @Sendable static func unaryCall(_ request: T.SimpleRequest, _ context: ServerContext) async throws -> T.SimpleResponse {
        echoMetadata(context)
        try check(request.responseStatus)
        guard request.responseSize >= 0 else { throw RPCError(.invalidArgument, "negative response_size") }
        return T.SimpleResponse(payload: T.Payload(body: [UInt8](repeating: 0, count: Int(request.responseSize))))
    }

    private static func respond(
        to request: T.StreamingOutputCallRequest, with writer: ResponseWriter<T.StreamingOutputCallResponse>
    ) async throws {
        for parameters in request.responseParameters {
            if parameters.intervalUs > 0 { try await Task.sleep(for: .microseconds(Int(parameters.intervalUs))) }
            guard parameters.size >= 0 else { throw RPCError(.invalidArgument, "negative response size") }
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
