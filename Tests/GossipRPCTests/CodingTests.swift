import Testing
@testable import GossipRPC

@Suite struct StatusMessageCodingTests {
    @Test func plainASCIIIsUnchanged() {
        #expect(StatusMessageCoding.encode("test status message") == "test status message")
    }

    @Test func specialCharactersArePercentEncoded() {
        let message = "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n"
        let encoded = StatusMessageCoding.encode(message)
        #expect(encoded == "%09%0Atest with whitespace%0D%0Aand Unicode BMP %E2%98%BA and non-BMP %F0%9F%98%88%09%0A")
        #expect(StatusMessageCoding.decode(encoded) == message)
    }

    @Test func percentSignIsEncoded() {
        #expect(StatusMessageCoding.encode("100%") == "100%25")
        #expect(StatusMessageCoding.decode("100%25") == "100%")
    }

    @Test func malformedEscapesAreKeptLiterally() {
        #expect(StatusMessageCoding.decode("%") == "%")
        #expect(StatusMessageCoding.decode("a%zzb") == "a%zzb")
        #expect(StatusMessageCoding.decode("%4") == "%4")
        #expect(StatusMessageCoding.decode("%41%4") == "A%4")
    }

    @Test func invalidUTF8DecodesToReplacementCharacter() {
        #expect(StatusMessageCoding.decode("%FF") == "\u{FFFD}")
    }
}

@Suite struct GRPCTimeoutTests {
    @Test(arguments: [
        ("1S", Duration.seconds(1)), ("100m", .milliseconds(100)), ("5u", .microseconds(5)),
        ("7n", .nanoseconds(7)), ("2M", .seconds(120)), ("1H", .seconds(3600)), ("99999999S", .seconds(99_999_999)),
    ])
    func parsesEveryUnit(value: String, expected: Duration) {
        #expect(GRPCTimeout.parse(value) == expected)
    }

    @Test(arguments: ["", "S", "1", "1x", "-1S", "123456789S", "1.5S", " 1S", "1s"])
    func rejectsMalformed(value: String) {
        #expect(GRPCTimeout.parse(value) == nil)
    }

    @Test func formatsWithTheFinestUnitThatFits() {
        #expect(GRPCTimeout.format(.milliseconds(1)) == "1000000n")
        #expect(GRPCTimeout.format(.seconds(1)) == "1000000u")
        #expect(GRPCTimeout.format(.seconds(1000)) == "1000000m")
        #expect(GRPCTimeout.format(.seconds(100_000_000)) == "1666667M")
    }

    @Test func formatNeverShortensTheDeadline() {
        for nanos: Int64 in [1, 999, 123_456_789, 99_999_999_999, 123_456_789_012_345] {
            let duration = Duration.nanoseconds(nanos)
            let header = GRPCTimeout.format(duration)
            #expect(header.count <= 9)
            #expect(GRPCTimeout.parse(header)! >= duration)
        }
    }

    @Test func nonPositiveDurationsBecomeTheSmallestTimeout() {
        #expect(GRPCTimeout.format(.zero) == "1n")
        #expect(GRPCTimeout.format(.seconds(-3)) == "1n")
    }
}

@Suite struct MetadataTests {
    @Test func textAndBinaryValuesAreKept() {
        var metadata = Metadata([("X-Key", "v")])
        metadata.add("trace-bin", binary: [0, 1, 255])
        #expect(metadata["x-key"] == "v")
        #expect(metadata.binary("trace-bin") == [0, 1, 255])
        #expect(metadata.wireFields.map(\.0) == ["x-key", "trace-bin"])
        #expect(metadata.wireFields[1].1 == "AAH/")
    }

    @Test func binaryValuesDecodePaddedAndUnpadded() {
        var metadata = Metadata()
        let added5970 = metadata.addWire(name: "a-bin", value: "q6ur")
        #expect(added5970)
        let added7395 = metadata.addWire(name: "b-bin", value: "qw")
        #expect(added7395)
        let added425 = metadata.addWire(name: "c-bin", value: "qw==")
        #expect(added425)
        #expect(metadata.binary("a-bin") == [0xAB, 0xAB, 0xAB])
        #expect(metadata.binary("b-bin") == [0xAB])
        #expect(metadata.binary("c-bin") == [0xAB])
    }

    @Test func invalidBase64IsRejected() {
        var metadata = Metadata()
        let added9614 = metadata.addWire(name: "a-bin", value: "!!!")
        #expect(!added9614)
        let added7442 = metadata.addWire(name: "a-bin", value: "q")
        #expect(!added7442)
        #expect(metadata.isEmpty)
    }

    @Test func protocolHeadersAreReserved() {
        for name in [":path", "content-type", "te", "grpc-timeout", "grpc-status", "grpc-message"] {
            #expect(Metadata.isReserved(name))
        }
        #expect(!Metadata.isReserved("x-grpc-test-echo-initial"))
    }
}

@Suite struct BackoffTests {
    @Test func growsGeometricallyUpToTheCap() {
        let backoff = Backoff(initial: .seconds(1), multiplier: 2, maximum: .seconds(10), jitter: 0)
        #expect(backoff.baseDelay(attempt: 0) == .seconds(1))
        #expect(backoff.baseDelay(attempt: 1) == .seconds(2))
        #expect(backoff.baseDelay(attempt: 3) == .seconds(8))
        #expect(backoff.baseDelay(attempt: 4) == .seconds(10))
        #expect(backoff.baseDelay(attempt: 50) == .seconds(10))
    }

    @Test func jitterStaysWithinItsFraction() {
        let backoff = Backoff(initial: .seconds(10), multiplier: 1.6, maximum: .seconds(100), jitter: 0.2)
        #expect(backoff.delay(attempt: 0, unit: 0) == .seconds(8))
        #expect(backoff.delay(attempt: 0, unit: 0.5) == .seconds(10))
        for unit in stride(from: 0.0, to: 1.0, by: 0.05) {
            let delay = backoff.delay(attempt: 0, unit: unit)
            #expect(delay >= .seconds(8) && delay <= .seconds(12))
        }
    }
}
