import GossipWire
import Testing

/// Where protobuf-c 1.4 differs from the reference runtimes (upb, C++). Pinned
/// here so a library upgrade that changes them is noticed.
@Suite("protobuf-c quirks")
struct ProtobufCQuirkTests {
    /// proto3 implicit presence: protobuf-c skips a float/double that
    /// compares equal to 0, so -0.0 is sent as "absent" and arrives as +0.0.
    /// (upb sends it.) Repeated floats are copied bit for bit and keep it.
    @Test func singularNegativeZeroLosesItsSign() throws {
        #expect(GatewayV1.NodeEntry(ageSeconds: -0.0).encode() == [])
        #expect(try roundTrip(GatewayV1.NodeEntry(ageSeconds: -0.0)).ageSeconds.sign == .plus)
        #expect(try roundTrip(GossipV1.ModelValues(scales: [-0.0])).scales[0].sign == .minus)
    }

    /// protobuf-c strings are NUL-terminated `char *`: U+0000 ends them, in
    /// both directions.
    @Test func embeddedNULTruncatesStrings() throws {
        #expect(GRPCHealth.HealthCheckRequest(service: "a\0b").encode() == [0x0A, 0x01, 0x61])
        try expectDecodes([0x0A, 0x03, 0x61, 0x00, 0x62], to: GRPCHealth.HealthCheckRequest(service: "a"))
    }

    /// A known field with the wrong wire type is an error here; upb and C++
    /// keep it as an unknown field instead.
    @Test func wrongWireTypeIsAnErrorNotAnUnknownField() {
        #expect(throws: WireError.malformed(message: "grpc.health.v1.HealthCheckRequest")) {
            try GRPCHealth.HealthCheckRequest(decoding: [0x08, 0x01])
        }
    }

    /// ...except for bool fields, whose wire type protobuf-c never checks.
    @Test func boolFieldsAcceptAnyWireType() throws {
        // fill_username (4) sent length-delimited; upb ignores it
        let decoded = try GRPCTesting.SimpleRequest(decoding: [0x22, 0x01, 0x01])
        withKnownIssue("protobuf-c reads any wire type as a bool") {
            #expect(decoded.fillUsername == false)
        }
    }

    /// Merging two instances of a submessage keeps strings, bytes and
    /// messages from the first, but not its scalars (proto3 scalars have no
    /// "has" flag for protobuf-c's merge to look at).
    @Test func splitSubmessagesLoseEarlierScalars() throws {
        // payload {type: 5} then payload {body: "A"}
        let decoded = try GRPCTesting.SimpleRequest(decoding: [0x1A, 0x02, 0x08, 0x05, 0x1A, 0x03, 0x12, 0x01, 0x41])
        #expect(decoded.payload?.body == [0x41])
        withKnownIssue("protobuf-c's merge drops the earlier instance's proto3 scalars") {
            #expect(decoded.payload?.type.rawValue == 5)
        }
    }

    /// Unknown fields in the obsolete group encoding (wire types 3/4) are
    /// rejected; upb skips them.
    @Test func groupEncodedUnknownFieldsAreRejected() {
        #expect(throws: WireError.malformed(message: "grpc.testing.Empty")) {
            try GRPCTesting.Empty(decoding: [0x0B, 0x08, 0x01, 0x0C])
        }
    }
}
