import Testing
@testable import Discovery

@Suite struct ValidationTests {
    @Test(arguments: ["a", "node-1", "peer_7.local:9", String(repeating: "x", count: 128)])
    func acceptsNodeIDs(id: String) throws {
        try RegistrationValidation.checkNodeID(id)
    }

    @Test(arguments: ["", String(repeating: "x", count: 129), "has space", "slash/id", "ünïcode", "semi;colon"])
    func rejectsNodeIDs(id: String) {
        #expect(throws: RegistrationValidation.Failure.self) { try RegistrationValidation.checkNodeID(id) }
    }

    @Test(arguments: ["127.0.0.1", "10.1.2.3", "localhost", "node-1.example.org", "::1", "fe80::1", "2001:db8::8:800:200c:417a",
                      "::ffff:192.0.2.1", "1:2:3:4:5:6:7:8"])
    func acceptsHosts(host: String) throws {
        try RegistrationValidation.checkAddress(host: host, port: 7000)
    }

    @Test(arguments: ["", "256.1.1.1", "1.2.3", "01.2.3.4", "-bad.example", "under_score.org", "a..b", "1:2:3:4:5:6:7:8:9",
                      "1::2::3", "gggg::1", String(repeating: "a", count: 64) + ".org", "host name"])
    func rejectsHosts(host: String) {
        #expect(throws: RegistrationValidation.Failure.self) { try RegistrationValidation.checkAddress(host: host, port: 7000) }
    }

    @Test(arguments: [0, -1, 65536])
    func rejectsPorts(port: Int) {
        #expect(throws: RegistrationValidation.Failure.self) {
            try RegistrationValidation.checkAddress(host: "127.0.0.1", port: port)
        }
    }

    @Test func capabilityAndMetadataLimits() throws {
        try RegistrationValidation.checkCapabilities(Array(repeating: "gpu", count: 64))
        #expect(throws: RegistrationValidation.Failure.self) {
            try RegistrationValidation.checkCapabilities(Array(repeating: "gpu", count: 65))
        }
        #expect(throws: RegistrationValidation.Failure.self) { try RegistrationValidation.checkCapabilities([""]) }
        #expect(throws: RegistrationValidation.Failure.self) {
            try RegistrationValidation.checkMetadata(["k": String(repeating: "v", count: 2000)])
        }
    }

    @Test func failureMessagesNameTheField() {
        do {
            try RegistrationValidation.checkAddress(host: "127.0.0.1", port: 0)
        } catch {
            #expect(error.description == "address.port 0 is not in 1...65535")
        }
    }
}
