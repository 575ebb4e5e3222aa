import GossipRPC
import GossipWire

/// Typed stub for `grpc.testing.TestService` (and the never-implemented
/// `grpc.testing.UnimplementedService`).
public struct TestServiceClient: Sendable {
    public typealias T = GRPCTesting
    public static let service = "grpc.testing.TestService"

    public static let emptyCall = MethodDescriptor<T.Empty, T.Empty>(service: service, method: "EmptyCall")
    public static let unaryCall = MethodDescriptor<T.SimpleRequest, T.SimpleResponse>(service: service, method: "UnaryCall")
    public static let streamingOutputCall = MethodDescriptor<T.StreamingOutputCallRequest, T.StreamingOutputCallResponse>(
        service: service, method: "StreamingOutputCall")
    public static let streamingInputCall = MethodDescriptor<T.StreamingInputCallRequest, T.StreamingInputCallResponse>(
        service: service, method: "StreamingInputCall")
    public static let fullDuplexCall = MethodDescriptor<T.StreamingOutputCallRequest, T.StreamingOutputCallResponse>(
        service: service, method: "FullDuplexCall")
    public static let halfDuplexCall = MethodDescriptor<T.StreamingOutputCallRequest, T.StreamingOutputCallResponse>(
        service: service, method: "HalfDuplexCall")
    public static let unimplementedCall = MethodDescriptor<T.Empty, T.Empty>(service: service, method: "UnimplementedCall")
    public static let unimplementedServiceCall = MethodDescriptor<T.Empty, T.Empty>(
        service: "grpc.testing.UnimplementedService", method: "UnimplementedCall")

    public let channel: Channel

    public init(channel: Channel) {
        self.channel = channel
    }

    public func emptyCall(_ request: T.Empty = T.Empty(), options: CallOptions = CallOptions()) async throws -> T.Empty {
        try await channel.unary(Self.emptyCall, request, options: options)
    }

    public func unaryCall(_ request: T.SimpleRequest, options: CallOptions = CallOptions()) async throws -> UnaryResponse<T.SimpleResponse> {
        try await channel.unaryCall(Self.unaryCall, request, options: options)
    }

    public func streamingOutputCall(_ request: T.StreamingOutputCallRequest, options: CallOptions = CallOptions()) async throws
        -> ClientCall<T.StreamingOutputCallRequest, T.StreamingOutputCallResponse> {
        try await channel.serverStreaming(Self.streamingOutputCall, request, options: options)
    }

    public func streamingInputCall(options: CallOptions = CallOptions())
        -> ClientCall<T.StreamingInputCallRequest, T.StreamingInputCallResponse> {
        channel.makeCall(Self.streamingInputCall, options: options)
    }

    public func fullDuplexCall(options: CallOptions = CallOptions())
        -> ClientCall<T.StreamingOutputCallRequest, T.StreamingOutputCallResponse> {
        channel.makeCall(Self.fullDuplexCall, options: options)
    }

    public func halfDuplexCall(options: CallOptions = CallOptions())
        -> ClientCall<T.StreamingOutputCallRequest, T.StreamingOutputCallResponse> {
        channel.makeCall(Self.halfDuplexCall, options: options)
    }

    public func unimplementedCall(options: CallOptions = CallOptions()) async throws -> T.Empty {
        try await channel.unary(Self.unimplementedCall, T.Empty(), options: options)
    }

    public func unimplementedServiceCall(options: CallOptions = CallOptions()) async throws -> T.Empty {
        try await channel.unary(Self.unimplementedServiceCall, T.Empty(), options: options)
    }
}
