import GossipWire
import Testing

@Suite("Round trips")
struct RoundTripTests {
    @Test("golden values survive encode then decode", arguments: goldenCases)
    func goldenValues(_ golden: GoldenCase) throws {
        try expectRoundTrip(golden.value)
    }

    @Test("default values encode to no bytes", arguments: allMessageDefaults)
    func defaults(_ value: any WireMessage) throws {
        #expect(value.encode() == [])
        try expectDecodes([], to: value)
    }

    @Test func extremeScalars() throws {
        try expectRoundTrip(GRPCTesting.ResponseParameters(size: .min, intervalUs: .max))
        try expectRoundTrip(GRPCTesting.EchoStatus(code: .min, message: "x"))
        try expectRoundTrip(RaftV1.AppendEntriesResponse(
            term: .max, success: true, matchIndex: 1, conflictIndex: .max - 1, conflictTerm: 1 << 63))
        try expectRoundTrip(GatewayV1.NodeAddress(host: "h", port: .max))
        try expectRoundTrip(GatewayV1.NodeEntry(ageSeconds: -.greatestFiniteMagnitude))
        try expectRoundTrip(GatewayV1.LeaderHint(ageSeconds: .leastNonzeroMagnitude))
        try expectRoundTrip(GossipV1.ModelValues(round: .max, scales: [-.infinity, .leastNormalMagnitude, -0.0], blockLengths: [.max]))
        try expectRoundTrip(GossipV1.ModelValues(encoding: GossipV1.ValueEncoding(rawValue: -7)))
    }

    @Test func nonASCIIStrings() throws {
        try expectRoundTrip(RaftV1.StatusResponse(nodeId: "ノード", leaderId: "🦀🚀", role: "léader"))
        try expectRoundTrip(GatewayV1.RegisterRequest(capabilities: ["", "ü", String(repeating: "é", count: 10_000)]))
        try expectRoundTrip(GossipV1.BandwidthReport(mbpsToPeer: ["": 1, "日本": 2, "a\u{301}": 3]))
    }

    @Test func nestedPresence() throws {
        // An empty submessage is present, and stays distinguishable from nil.
        let present = GRPCTesting.SimpleRequest(responseCompressed: GRPCTesting.BoolValue())
        #expect(present.encode() == [0x32, 0x00])
        #expect(try roundTrip(present).responseCompressed != nil)
        #expect(try roundTrip(GRPCTesting.SimpleRequest()).responseCompressed == nil)
    }

    @Test func manyRepeatedMessages() throws {
        let entries = (0..<10_000).map {
            RaftV1.Entry(term: 1, index: UInt64($0), data: [UInt8(truncatingIfNeeded: $0)])
        }
        let request = RaftV1.AppendEntriesRequest(term: 1, leaderId: "n1", entries: entries)
        let same = try roundTrip(request) == request
        #expect(same)
    }

    @Test func mapEncodingIsSortedAndDeterministic() throws {
        let report = GossipV1.BandwidthReport(mbpsToPeer: ["c": 3, "a": 1, "b": 2])
        let encoded = report.encode()
        // Each entry is 14 bytes: 0x12 0x0C { 0x0A 0x01 <key> 0x11 <8-byte double> }.
        let keys = stride(from: 4, to: encoded.count, by: 14).map { encoded[$0] }
        #expect(encoded.count == 3 * 14)
        #expect(keys == Array("abc".utf8))
        #expect(GossipV1.BandwidthReport(mbpsToPeer: ["b": 2, "c": 3, "a": 1]).encode() == encoded)
    }
}

@Suite("Decoding rules every protobuf runtime follows")
struct DecodingRuleTests {
    @Test func lastScalarWins() throws {
        // response_size twice: 1, then 2
        try expectDecodes([0x10, 0x01, 0x10, 0x02], to: GRPCTesting.SimpleRequest(responseSize: 2))
    }

    @Test func splitSubmessagesMerge() throws {
        // response_status {message: "x"} then response_status {code: 3}
        try expectDecodes(
            [0x3A, 0x03, 0x12, 0x01, 0x78, 0x3A, 0x02, 0x08, 0x03],
            to: GRPCTesting.SimpleRequest(responseStatus: GRPCTesting.EchoStatus(code: 3, message: "x")))
    }

    @Test func lastMapValueWins() throws {
        // {"k": 1.0} then {"k": 2.0}
        let one: [UInt8] = [0x12, 0x0C, 0x0A, 0x01, 0x6B, 0x11, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F]
        let two: [UInt8] = [0x12, 0x0C, 0x0A, 0x01, 0x6B, 0x11, 0, 0, 0, 0, 0, 0, 0x00, 0x40]
        try expectDecodes(one + two, to: GossipV1.BandwidthReport(mbpsToPeer: ["k": 2]))
    }

    @Test func packedAndUnpackedRepeatedScalarsBothDecode() throws {
        // ModelValues.block_lengths (field 7, uint32)
        let packed: [UInt8] = [0x3A, 0x03, 0x01, 0x02, 0x03]
        let unpacked: [UInt8] = [0x38, 0x01, 0x38, 0x02, 0x38, 0x03]
        try expectDecodes(packed, to: GossipV1.ModelValues(blockLengths: [1, 2, 3]))
        try expectDecodes(unpacked, to: GossipV1.ModelValues(blockLengths: [1, 2, 3]))
        try expectDecodes(unpacked + packed, to: GossipV1.ModelValues(blockLengths: [1, 2, 3, 1, 2, 3]))
    }

    @Test func fieldsMayArriveInAnyOrder() throws {
        // known (2) after unknown (99) after known (1)
        try expectDecodes(
            [0x0A, 0x01, 0x68, 0x98, 0x06, 0x02, 0x10, 0x05],
            to: GatewayV1.NodeAddress(host: "h", port: 5))
    }
}

func expectRoundTrip<M: WireMessage>(_ value: M, sourceLocation: SourceLocation = #_sourceLocation) throws {
    #expect(try roundTrip(value) == value, sourceLocation: sourceLocation)
}
