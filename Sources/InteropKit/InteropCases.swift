import GossipRPC
import GossipWire

/// A failed interop expectation.
public struct InteropFailure: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// The gRPC interop client test cases, run with our client against any
/// TestService server.
public enum InteropCases {
    public typealias T = GRPCTesting
    public typealias Case = @Sendable (TestServiceClient) async throws -> Void

    public static let all: [(name: String, run: Case)] = [
        ("empty_unary", emptyUnary),
        ("large_unary", largeUnary),
        ("client_streaming", clientStreaming),
        ("server_streaming", serverStreaming),
        ("ping_pong", pingPong),
        ("empty_stream", emptyStream),
        ("timeout_on_sleeping_server", timeoutOnSleepingServer),
        ("cancel_after_begin", cancelAfterBegin),
        ("cancel_after_first_response", cancelAfterFirstResponse),
        ("custom_metadata", customMetadata),
        ("status_code_and_message", statusCodeAndMessage),
        ("special_status_message", specialStatusMessage),
        ("unimplemented_method", unimplementedMethod),
        ("unimplemented_service", unimplementedService),
    ]

    public static func named(_ name: String) -> Case? {
        all.first { $0.name == name }?.run
    }

    static let requestSizes: [Int] = [27182, 8, 1828, 45904]
    static let responseSizes: [Int32] = [31415, 9, 2653, 58979]

    static func zeros(_ count: Int) -> T.Payload { T.Payload(body: [UInt8](repeating: 0, count: count)) }

    static func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw InteropFailure(message()) }
    }

    static func expectPayload(_ payload: T.Payload?, size: Int, _ what: String) throws {
        guard let payload else { throw InteropFailure("\(what): missing payload") }
        try expect(payload.body.count == size, "\(what): payload of \(payload.body.count) bytes, expected \(size)")
        try expect(payload.body.allSatisfy { $0 == 0 }, "\(what): payload is not all zeros")
    }

    /// Runs `body` expecting it to fail with `code` (and `message`, if given).
    static func expectError(_ code: StatusCode, message: String? = nil, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as RPCError {
            try expect(error.code == code, "expected \(code), got \(error)")
            if let message {
                try expect(error.message == message, "expected message \(message.debugDescription), got \(error.message.debugDescription)")
            }
            return
        }
        throw InteropFailure("expected \(code), but the call succeeded")
    }

    static func expectStatus(_ status: RPCStatus, _ code: StatusCode, message: String? = nil) throws {
        try expect(status.code == code, "expected status \(code), got \(status)")
        if let message {
            try expect(status.message == message, "expected message \(message.debugDescription), got \(status.message.debugDescription)")
        }
    }

    // MARK: cases

    static let emptyUnary: Case = { client in
        let response = try await client.emptyCall()
        try expect(response == T.Empty(), "non-empty response")
    }

    static let largeUnary: Case = { client in
        let response = try await client.unaryCall(T.SimpleRequest(responseSize: 314159, payload: zeros(271828)))
        try expectPayload(response.message.payload, size: 314159, "large_unary")
    }

    static let clientStreaming: Case = { client in
        let call = client.streamingInputCall()
        for size in requestSizes { try await call.send(T.StreamingInputCallRequest(payload: zeros(size))) }
        call.closeSend()
        guard let response = try await call.receive() else { throw InteropFailure("no response") }
        try expect(response.aggregatedPayloadSize == 74922, "aggregated size \(response.aggregatedPayloadSize), expected 74922")
        try expectStatus(await call.status(), .ok)
    }

    static let serverStreaming: Case = { client in
        let request = T.StreamingOutputCallRequest(
            responseParameters: responseSizes.map { T.ResponseParameters(size: $0) })
        let call = try await client.streamingOutputCall(request)
        var received = 0
        for try await response in call.responses {
            guard received < responseSizes.count else { throw InteropFailure("more than \(responseSizes.count) responses") }
            try expectPayload(response.payload, size: Int(responseSizes[received]), "response \(received)")
            received += 1
        }
        try expect(received == responseSizes.count, "received \(received) responses, expected \(responseSizes.count)")
        try expectStatus(await call.status(), .ok)
    }

    static let pingPong: Case = { client in
        let call = client.fullDuplexCall()
        for (responseSize, requestSize) in zip(responseSizes, requestSizes) {
            try await call.send(T.StreamingOutputCallRequest(
                responseParameters: [T.ResponseParameters(size: responseSize)], payload: zeros(requestSize)))
            guard let response = try await call.receive() else { throw InteropFailure("stream ended early") }
            try expectPayload(response.payload, size: Int(responseSize), "ping_pong response")
        }
        call.closeSend()
        try expect(try await call.receive() == nil, "unexpected extra response")
        try expectStatus(await call.status(), .ok)
    }

    static let emptyStream: Case = { client in
        let call = client.fullDuplexCall()
        call.closeSend()
        try expect(try await call.receive() == nil, "unexpected response on empty stream")
        try expectStatus(await call.status(), .ok)
    }

    static let timeoutOnSleepingServer: Case = { client in
        let call = client.fullDuplexCall(options: CallOptions(timeout: .milliseconds(1)))
        // The send itself may already fail with DEADLINE_EXCEEDED; the status tells.
        try? await call.send(T.StreamingOutputCallRequest(payload: zeros(27182)))
        _ = try? await call.receive()
        try expectStatus(await call.status(), .deadlineExceeded)
    }

    static let cancelAfterBegin: Case = { client in
        let call = client.streamingInputCall()
        call.cancel()
        try expectStatus(await call.status(), .cancelled)
    }

    static let cancelAfterFirstResponse: Case = { client in
        let call = client.fullDuplexCall()
        try await call.send(T.StreamingOutputCallRequest(
            responseParameters: [T.ResponseParameters(size: 31415)], payload: zeros(27182)))
        guard let response = try await call.receive() else { throw InteropFailure("no first response") }
        try expectPayload(response.payload, size: 31415, "first response")
        call.cancel()
        try expectStatus(await call.status(), .cancelled)
    }

    static let customMetadata: Case = { client in
        let initialValue = "test_initial_metadata_value"
        let trailingValue: [UInt8] = [0xAB, 0xAB, 0xAB]
        var metadata = Metadata([(TestServiceProvider.echoInitialKey, initialValue)])
        metadata.add(TestServiceProvider.echoTrailingKey, binary: trailingValue)
        let options = CallOptions(metadata: metadata)

        let unary = try await client.unaryCall(T.SimpleRequest(responseSize: 314159, payload: zeros(271828)), options: options)
        try expectPayload(unary.message.payload, size: 314159, "unary")
        try expect(unary.initialMetadata[TestServiceProvider.echoInitialKey] == initialValue, "unary: initial metadata not echoed")
        try expect(unary.trailingMetadata.binary(TestServiceProvider.echoTrailingKey) == trailingValue,
                   "unary: trailing metadata not echoed")

        let call = client.fullDuplexCall(options: options)
        try await call.send(T.StreamingOutputCallRequest(
            responseParameters: [T.ResponseParameters(size: 314159)], payload: zeros(271828)))
        guard let response = try await call.receive() else { throw InteropFailure("full duplex: no response") }
        try expectPayload(response.payload, size: 314159, "full duplex")
        call.closeSend()
        try expect(try await call.receive() == nil, "full duplex: extra response")
        let initial = try await call.initialMetadata()
        try expect(initial[TestServiceProvider.echoInitialKey] == initialValue, "full duplex: initial metadata not echoed")
        let status = await call.status()
        try expectStatus(status, .ok)
        try expect(status.trailers.binary(TestServiceProvider.echoTrailingKey) == trailingValue,
                   "full duplex: trailing metadata not echoed")
    }

    static func echoStatus(_ client: TestServiceClient, message: String) async throws {
        let echo = T.EchoStatus(code: 2, message: message)
        try await expectError(.unknown, message: message) {
            _ = try await client.unaryCall(T.SimpleRequest(responseStatus: echo))
        }
        let call = client.fullDuplexCall()
        try await call.send(T.StreamingOutputCallRequest(responseStatus: echo))
        call.closeSend()
        _ = try? await call.receive()
        try expectStatus(await call.status(), .unknown, message: message)
    }

    static let statusCodeAndMessage: Case = { client in
        try await echoStatus(client, message: "test status message")
    }

    static let specialStatusMessage: Case = { client in
        try await echoStatus(client, message: "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n")
    }

    static let unimplementedMethod: Case = { client in
        try await expectError(.unimplemented) { _ = try await client.unimplementedCall() }
    }

    static let unimplementedService: Case = { client in
        try await expectError(.unimplemented) { _ = try await client.unimplementedServiceCall() }
    }
}
