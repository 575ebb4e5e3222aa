import GossipWire
import Testing

@Suite("Unknown-field inspection")
struct UnknownFieldTests {
    @Test func reportsAFieldAppendedToAGolden() throws {
        let bytes = try Golden.bytes("gateway_register_request_unknown_field")
        #expect(try unknownFields(GatewayV1.RegisterRequest.self, bytes) == [99])
    }

    @Test func cleanGoldenHasNone() throws {
        let bytes = try Golden.bytes("gateway_register_request")
        #expect(try unknownFields(GatewayV1.RegisterRequest.self, bytes) == [])
    }

    @Test func emptyInputHasNone() throws {
        #expect(try unknownFields(GatewayV1.RegisterRequest.self, []) == [])
    }

    @Test func garbageThrows() {
        #expect(throws: WireError.malformed(message: "gateway.v1.RegisterRequest")) {
            try unknownFields(GatewayV1.RegisterRequest.self, [UInt8](repeating: 0xFF, count: 16))
        }
        #expect(throws: WireError.malformed(message: "gateway.v1.RegisterRequest")) {
            try unknownFields(GatewayV1.RegisterRequest.self, Array("not protobuf".utf8))
        }
    }

    /// One per wire type (varint, length-delimited, fixed32, fixed64).
    @Test func everyWireTypeIsReportedInWireOrder() throws {
        let bytes = try Golden.bytes("grpc_health_check_request_unknown_fields")
        #expect(try unknownFields(GRPCHealth.HealthCheckRequest.self, bytes) == [99, 100, 101, 102])
    }

    /// A RegisterRequest read as a HeartbeatRequest: node_id (1) is shared,
    /// address (2), three capabilities (3) and cluster_id (4) are not.
    @Test func repeatsAreKept() throws {
        let bytes = try Golden.bytes("gateway_register_request")
        #expect(try unknownFields(GatewayV1.HeartbeatRequest.self, bytes) == [2, 3, 3, 3, 4])
    }

    @Test func fieldsInsideSubmessagesAreReported() throws {
        let addressWithField99: [UInt8] = [0x98, 0x06, 0x01]
        #expect(try unknownFields(GatewayV1.NodeAddress.self, addressWithField99) == [99])
        // RegisterRequest.address (field 2) carrying it, after a clean node_id (field 1).
        let request: [UInt8] = [0x0A, 0x01, 0x61, 0x12, UInt8(addressWithField99.count)] + addressWithField99
        #expect(try unknownFields(GatewayV1.RegisterRequest.self, request) == [99])
    }

    @Test func fieldsInsideRepeatedSubmessagesAreReported() throws {
        // ReportMembershipRequest.members (field 4): a clean entry, then one carrying field 77.
        let clean: [UInt8] = [0x0A, 0x01, 0x61]
        let dirty: [UInt8] = [0x0A, 0x01, 0x62, 0xE8, 0x04, 0x05]
        let request: [UInt8] = [0x22, UInt8(clean.count)] + clean + [0x22, UInt8(dirty.count)] + dirty
        #expect(try unknownFields(GatewayV1.ReportMembershipRequest.self, request) == [77])
        let decoded = try GatewayV1.ReportMembershipRequest(decoding: request)
        #expect(decoded.members.map(\.nodeId) == ["a", "b"])
    }

    @Test func invalidUTF8IsLeftToDecoding() throws {
        let bytes: [UInt8] = [0x0A, 0x02, 0xC3, 0x28]
        #expect(try unknownFields(GRPCHealth.HealthCheckRequest.self, bytes) == [])
        #expect(throws: WireError.self) { try GRPCHealth.HealthCheckRequest(decoding: bytes) }
    }

    @Test("golden files carry unknown fields only where meant to", arguments: goldenCases)
    func goldens(_ golden: GoldenCase) throws {
        let bytes = try Golden.bytes(golden.name)
        let unknown = try bytes.withUnsafeBytes { try type(of: golden.value).unknownFieldNumbers(in: $0) }
        #expect(unknown.isEmpty == (golden.encoding != .dropsUnknownFields))
    }
}

private func unknownFields<M: WireMessage>(_: M.Type, _ bytes: [UInt8]) throws -> [UInt32] {
    try bytes.withUnsafeBytes { try M.unknownFieldNumbers(in: $0) }
}
