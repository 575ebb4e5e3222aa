import GossipWire
import Testing

@Suite("Golden vectors written by Python protobuf")
struct GoldenTests {
    @Test("decodes to the expected value", arguments: goldenCases)
    func decodesGolden(_ golden: GoldenCase) throws {
        try expectDecodes(Golden.bytes(golden.name), to: golden.value)
    }

    @Test("encodes to the golden bytes", arguments: goldenCases)
    func encodesGolden(_ golden: GoldenCase) throws {
        let expected = try Golden.bytes(golden.name)
        let encoded = golden.value.encode()
        switch golden.encoding {
        case .identical:
            expectSameBytes(encoded, expected)
        case .dropsUnknownFields:
            #expect(encoded.count < expected.count && expected.starts(with: encoded))
        case .mapLayoutDiffers:
            #expect(encoded != expected)
            try expectDecodes(encoded, to: golden.value)
        }
    }

    @Test func everyGoldenFileHasACaseAndViceVersa() throws {
        let names = goldenCases.map(\.name)
        #expect(Set(names).count == names.count, "duplicate case names")
        #expect(try Golden.names() == Set(names))
    }

    @Test func everyMessageTypeHasAGoldenCase() {
        let covered = Set(goldenCases.map { String(reflecting: type(of: $0.value)) })
        let all = Set(allMessageDefaults.map { String(reflecting: type(of: $0)) })
        #expect(all.count == allMessageDefaults.count)
        #expect(all.subtracting(covered) == [])
    }
}

func expectDecodes<M: WireMessage>(
    _ bytes: [UInt8], to expected: M, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let decoded = try M(decoding: bytes)
    #expect(decoded == expected, sourceLocation: sourceLocation)
}
