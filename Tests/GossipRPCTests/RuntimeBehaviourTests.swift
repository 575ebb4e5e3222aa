import Foundation
import GossipRPC
import GossipWire
import InteropKit
import Testing

/// Raw bytes as a message, to put arbitrary (even invalid) protobuf on the wire.
struct RawBytes: WireMessage {
    var bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    init(decoding bytes: UnsafeRawBufferPointer) throws { self.bytes = Array(bytes) }
    func encode() -> [UInt8] { bytes }
}

struct PlainError: Error, CustomStringConvertible {
    var description: String { "plain failure" }
}

/// A service whose handlers report what happened to them.
struct ProbeService {
    let started = Signal<Bool>()
    let cancelled = Signal<Bool>()
    static let sleep = MethodDescriptor<T.Empty, T.Empty>(service: "test.Probe", method: "Sleep")
    static let slow = MethodDescriptor<T.Empty, T.Empty>(service: "test.Probe", method: "Slow")
    static let fail = MethodDescriptor<T.Empty, T.Empty>(service: "test.Probe", method: "Fail")

    var service: Service {
        var service = Service(name: "test.Probe")
        service.unary("Sleep") { [started, cancelled] (_: T.Empty, _) in
            await started.set(true)
            do {
                try await Task.sleep(for: .seconds(30))
            } catch {
                await cancelled.set(true)
                throw error
            }
            return T.Empty()
        }
        service.unary("Slow") { [started] (_: T.Empty, _) in
            await started.set(true)
            try await Task.sleep(for: .milliseconds(300))
            return T.Empty()
        }
        service.unary("Fail") { (_: T.Empty, _) -> T.Empty in throw PlainError() }
        return service
    }
}

@Suite(.timeLimit(.minutes(1)))
struct DeadlineAndCancellationTests {
    @Test func deadlineExceededEndsTheCallAndCancelsTheHandler() async throws {
        let probe = ProbeService()
        try await withServer([probe.service]) { _, channel in
            // Connect first: on a loaded machine, connecting alone can outlast a short deadline,
            // and then there is no handler to cancel.
            await expectRPCError(.unknown) { _ = try await channel.unary(ProbeService.fail, T.Empty()) }
            let start = ContinuousClock.now
            let call = Task {
                try await channel.unary(ProbeService.sleep, T.Empty(), options: CallOptions(timeout: .milliseconds(1500)))
            }
            // The handler must be running before the deadline for there to be something to cancel.
            #expect(await probe.started.wait(timeout: .seconds(5)) == true)
            await expectRPCError(.deadlineExceeded) { _ = try await call.value }
            #expect(ContinuousClock.now - start < .seconds(5))
            #expect(await probe.cancelled.wait(timeout: .seconds(5)) == true)
        }
    }

    @Test func clientCancelResetsTheStreamAndCancelsTheHandler() async throws {
        let probe = ProbeService()
        try await withServer([probe.service]) { _, channel in
            let call = channel.makeCall(ProbeService.sleep)
            try await call.send(T.Empty())
            call.closeSend()
            #expect(await probe.started.wait(timeout: .seconds(5)) == true)
            call.cancel()
            #expect(await call.status().code == .cancelled)
            #expect(await probe.cancelled.wait(timeout: .seconds(5)) == true)
        }
    }

    @Test func cancellingTheCallingTaskCancelsTheCall() async throws {
        let probe = ProbeService()
        try await withServer([probe.service]) { _, channel in
            let task = Task { try await channel.unary(ProbeService.sleep, T.Empty()) }
            #expect(await probe.started.wait(timeout: .seconds(5)) == true)
            task.cancel()
            await #expect(throws: RPCError.self) { try await task.value }
            #expect(await probe.cancelled.wait(timeout: .seconds(5)) == true)
        }
    }
}

@Suite(.timeLimit(.minutes(1)))
struct StatusAndLimitTests {
    @Test func oversizedRequestIsResourceExhaustedAndTheConnectionSurvives() async throws {
        try await withServer(config: ServerConfig(maxReceiveMessageSize: 1024)) { _, channel in
            let client = TestServiceClient(channel: channel)
            let error = await expectRPCError(.resourceExhausted) {
                _ = try await client.unaryCall(T.SimpleRequest(payload: T.Payload(body: [UInt8](repeating: 1, count: 2048))))
            }
            #expect(error?.message.contains("larger than max") == true)
            _ = try await client.emptyCall()
            #expect(await channel.isConnected)
        }
    }

    @Test func oversizedResponseIsResourceExhaustedOnTheClient() async throws {
        try await withServer(channelConfig: ChannelConfig(maxReceiveMessageSize: 1024)) { _, channel in
            let client = TestServiceClient(channel: channel)
            await expectRPCError(.resourceExhausted) { _ = try await client.unaryCall(T.SimpleRequest(responseSize: 2048)) }
            let bigger = CallOptions(maxReceiveMessageSize: 4096)
            let response = try await client.unaryCall(T.SimpleRequest(responseSize: 2048), options: bigger)
            #expect(response.message.payload?.body.count == 2048)
        }
    }

    @Test func invalidProtobufIsInternal() async throws {
        try await withServer { _, channel in
            let raw = MethodDescriptor<RawBytes, RawBytes>(service: "grpc.testing.TestService", method: "UnaryCall")
            let error = await expectRPCError(.internal) { _ = try await channel.unary(raw, RawBytes([0xFF, 0xFF, 0xFF])) }
            #expect(error?.message.contains("decode") == true)
            _ = try await TestServiceClient(channel: channel).emptyCall()
        }
    }

    /// The handler's own error text (paths, internal state) stays in the server's log.
    @Test func nonRPCErrorFromAHandlerIsUnknownWithoutItsText() async throws {
        try await withServer([ProbeService().service]) { _, channel in
            let error = await expectRPCError(.unknown) { _ = try await channel.unary(ProbeService.fail, T.Empty()) }
            #expect(error?.message == "internal error")
        }
    }

    @Test func unknownServiceAndMethodAreUnimplementedWithClearMessages() async throws {
        try await withServer { _, channel in
            let client = TestServiceClient(channel: channel)
            let method = await expectRPCError(.unimplemented) { _ = try await client.unimplementedCall() }
            #expect(method?.message == "method not found: /grpc.testing.TestService/UnimplementedCall")
            let service = await expectRPCError(.unimplemented) { _ = try await client.unimplementedServiceCall() }
            #expect(service?.message == "unknown service grpc.testing.UnimplementedService")
        }
    }

    @Test func healthReportsServingAndNotFound() async throws {
        let health = HealthService()
        health.setStatus(.notServing, for: "draining.Service")
        try await withServer([health.service]) { _, channel in
            let whole = try await channel.unary(HealthService.check, .init(service: ""))
            #expect(whole.status == .serving)
            let draining = try await channel.unary(HealthService.check, .init(service: "draining.Service"))
            #expect(draining.status == .notServing)
            await expectRPCError(.notFound) { _ = try await channel.unary(HealthService.check, .init(service: "nope")) }
        }
    }
}
