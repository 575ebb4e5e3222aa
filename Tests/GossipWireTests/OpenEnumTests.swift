import GossipWire
import Testing

@Suite("Open enums")
struct OpenEnumTests {
    @Test(arguments: [Int32.min, -1, 3, 42, .max])
    func unknownValuesRoundTrip(_ raw: Int32) throws {
        try expectRoundTrip(GRPCTesting.Payload(type: .init(rawValue: raw)))
        try expectRoundTrip(GRPCTesting.SimpleResponse(grpclbRouteType: .init(rawValue: raw)))
        try expectRoundTrip(GRPCHealth.HealthCheckResponse(status: .init(rawValue: raw)))
        try expectRoundTrip(RaftV1.Entry(type: .init(rawValue: raw)))
    }

    @Test func negativeValuesUseTenByteVarints() {
        // int32 enums are sign-extended to 64 bits on the wire, as upb does.
        let encoded = GRPCHealth.HealthCheckResponse(status: .init(rawValue: -1)).encode()
        #expect(encoded == [0x08] + [UInt8](repeating: 0xFF, count: 9) + [0x01])
    }

    @Test func knownValuesHaveProtoNames() {
        #expect(GRPCHealth.HealthCheckResponse.ServingStatus.notServing.rawValue == 2)
        #expect(GRPCHealth.HealthCheckResponse.ServingStatus.notServing.description == "NOT_SERVING")
        #expect(GRPCTesting.GrpclbRouteType.backend.description == "GRPCLB_ROUTE_TYPE_BACKEND")
        #expect(RaftV1.EntryType.entryConfigChange.rawValue == 1)
        #expect(GRPCTesting.PayloadType(rawValue: 9).description == "PayloadType(9)")
    }

    @Test func unknownValueDecodesFromTheWire() throws {
        try expectDecodes([0x08, 0x2A], to: GRPCHealth.HealthCheckResponse(status: .init(rawValue: 42)))
    }
}
