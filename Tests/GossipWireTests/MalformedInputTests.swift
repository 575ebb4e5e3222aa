import GossipWire
import Testing

/// Bytes that are not a valid encoding of the message they are decoded as.
struct MalformedCase: Sendable, CustomTestStringConvertible {
    let testDescription: String
    let bytes: [UInt8]
    let protoName: String
    let decode: @Sendable ([UInt8]) throws -> Void

    init<M: WireMessage>(_ description: String, _ bytes: [UInt8], as type: M.Type, named protoName: String) {
        self.testDescription = description
        self.bytes = bytes
        self.protoName = protoName
        self.decode = { _ = try M(decoding: $0) }
    }
}

private let simpleRequest = "grpc.testing.SimpleRequest"
private let healthRequest = "grpc.health.v1.HealthCheckRequest"

let malformedCases: [MalformedCase] = [
    // field 2 (int32), varint with the continuation bit set and nothing after
    .init("truncated varint value", [0x10, 0x80], as: GRPCTesting.SimpleRequest.self, named: simpleRequest),
    .init("truncated varint tag", [0x80], as: GRPCTesting.SimpleRequest.self, named: simpleRequest),
    .init("varint longer than 10 bytes", [0x10] + [UInt8](repeating: 0xFF, count: 11) + [0x01],
          as: GRPCTesting.SimpleRequest.self, named: simpleRequest),
    // field 3 (Payload) says 5 bytes, 2 follow
    .init("truncated length-delimited field", [0x1A, 0x05, 0x08, 0x01],
          as: GRPCTesting.SimpleRequest.self, named: simpleRequest),
    // field 1 (string) with a length near 4 GiB
    .init("length prefix beyond buffer", [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x61],
          as: GRPCHealth.HealthCheckRequest.self, named: healthRequest),
    .init("length prefix missing", [0x0A], as: GRPCHealth.HealthCheckRequest.self, named: healthRequest),
    // field 2 (int32) sent length-delimited
    .init("int32 field with wire type 2", [0x12, 0x01, 0x00],
          as: GRPCTesting.SimpleRequest.self, named: simpleRequest),
    // field 1 (string) sent as a varint
    .init("string field with wire type 0", [0x08, 0x01],
          as: GRPCHealth.HealthCheckRequest.self, named: healthRequest),
    // field 3 (message) sent as fixed32
    .init("message field with wire type 5", [0x1D, 0x01, 0x02, 0x03, 0x04],
          as: GRPCTesting.SimpleRequest.self, named: simpleRequest),
    // field 4 (double) sent as a varint
    .init("double field with wire type 0", [0x20, 0x01],
          as: GatewayV1.NodeEntry.self, named: "gateway.v1.NodeEntry"),
    .init("fixed64 shorter than 8 bytes", [0x21, 0x00, 0x00, 0x00],
          as: GatewayV1.NodeEntry.self, named: "gateway.v1.NodeEntry"),
    // field 6 (packed float) whose length is not a multiple of 4
    .init("packed floats of 3 bytes", [0x32, 0x03, 0x00, 0x00, 0x80],
          as: GossipV1.ModelValues.self, named: "gossip.v1.ModelValues"),
    // Payload inside SimpleRequest ends mid-varint: the error is the outer message's
    .init("malformed nested message", [0x1A, 0x02, 0x08, 0x80],
          as: GRPCTesting.SimpleRequest.self, named: simpleRequest),
    .init("invalid UTF-8 in a string", [0x0A, 0x02, 0xC3, 0x28],
          as: GRPCHealth.HealthCheckRequest.self, named: healthRequest),
    // EchoStatus.message inside SimpleRequest.response_status
    .init("invalid UTF-8 in a nested string", [0x3A, 0x03, 0x12, 0x01, 0xFF],
          as: GRPCTesting.SimpleRequest.self, named: simpleRequest),
    .init("wire type 6 (undefined)", [0x0E, 0x00], as: GRPCTesting.Empty.self, named: "grpc.testing.Empty"),
    .init("all 0xFF", [UInt8](repeating: 0xFF, count: 32), as: GRPCTesting.Empty.self, named: "grpc.testing.Empty"),
    .init("ASCII text", Array("this is not protobuf".utf8),
          as: RaftV1.AppendEntriesRequest.self, named: "raft.v1.AppendEntriesRequest"),
]

@Suite("Malformed input")
struct MalformedInputTests {
    @Test("throws WireError.malformed", arguments: malformedCases)
    func rejects(_ malformed: MalformedCase) {
        #expect(throws: WireError.malformed(message: malformed.protoName)) {
            try malformed.decode(malformed.bytes)
        }
    }

    /// Every strict prefix of a valid encoding either decodes or throws
    /// `malformed`; none may crash. (Some prefixes end on a field boundary
    /// and are valid messages.)
    @Test("truncations of golden encodings never crash", arguments: goldenCases)
    func truncations(_ golden: GoldenCase) throws {
        let bytes = try Golden.bytes(golden.name)
        for length in 0..<bytes.count {
            do {
                _ = try decodeAs(golden.value, Array(bytes[..<length]))
            } catch let error as WireError {
                guard case .malformed = error else { Issue.record("unexpected \(error)"); return }
            }
        }
    }

    /// Flipping any single byte must not crash the decoder either.
    @Test("single-byte corruptions never crash")
    func corruptions() throws {
        let bytes = try Golden.bytes("gateway_register_response")
        for index in bytes.indices {
            for replacement: UInt8 in [0x00, 0x7F, 0x80, 0xFF] {
                var corrupted = bytes
                corrupted[index] = replacement
                _ = try? GatewayV1.RegisterResponse(decoding: corrupted)
            }
        }
    }
}

/// Decodes as the dynamic type of `sample`.
private func decodeAs<M: WireMessage>(_ sample: M, _ bytes: [UInt8]) throws -> M {
    try M(decoding: bytes)
}
