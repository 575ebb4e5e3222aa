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

@Suite struct NULAndTermValidationTests {
    @Test func nulIsRefusedInEveryTextField() {
        #expect(throws: RegistrationValidation.Failure.self) { try RegistrationValidation.checkNodeID("base-1\0evil") }
        #expect(throws: RegistrationValidation.Failure.self) {
            try RegistrationValidation.checkAddress(host: "10.0.0.1\0", port: 1)
        }
        #expect(throws: RegistrationValidation.Failure.self) { try RegistrationValidation.checkCapabilities(["gpu\0"]) }
        #expect(throws: RegistrationValidation.Failure.self) { try RegistrationValidation.checkMetadata(["k\0": "v"]) }
        do {
            try RegistrationValidation.checkMetadata(["role": "w\0rker"])
            Issue.record("a NUL in a metadata value was accepted")
        } catch {
            #expect(error.description.hasPrefix("metadata.value"))
            #expect(error.description.contains("NUL"))
        }
    }

    @Test func termsBeyond2To62AreRefused() throws {
        try RegistrationValidation.checkTerm(1 << 62)
        #expect(throws: RegistrationValidation.Failure.self) { try RegistrationValidation.checkTerm((1 << 62) + 1) }
        #expect(throws: RegistrationValidation.Failure.self) { try RegistrationValidation.checkTerm(.max) }
    }
}

@Suite struct SnapshotValidationTests {
    static func node(_ id: String, host: String = "127.0.0.1", port: Int = 9000, capabilities: [String] = []) -> NodeRecord {
        NodeRecord(nodeID: id, address: NodeAddress(host: host, port: port), capabilities: capabilities, metadata: [:],
                   joinedAt: 1000, lastSeen: 1000, leaseExpiresAt: 1030, confirmed: false)
    }

    @Test func hostileEntriesAreDroppedAndNamed() {
        var snapshot = RegistrySnapshot.empty
        snapshot.clusterID = "cluster-1"
        snapshot.nodes = [Self.node("good"), Self.node("has space"), Self.node("port-zero", port: 0),
                          Self.node("bad-host", host: "not a host"), Self.node("nul-cap", capabilities: ["a\0b"]),
                          Self.node("good")]
        snapshot.leader = LeaderRecord(nodeID: "good", term: .max, learnedAt: 1000)
        snapshot.lastReport = ReportKey(term: .max, reportedAt: 1000, reporterID: "good")
        snapshot.version = .max
        let (clean, dropped) = SnapshotValidation.clean(snapshot)
        #expect(clean.nodes.map(\.nodeID) == ["good"])
        #expect(clean.leader == nil)
        #expect(clean.lastReport == nil)
        #expect(clean.version == 0)
        #expect(clean.clusterID == "cluster-1")
        for name in ["\"has space\"", "\"port-zero\"", "\"bad-host\"", "\"nul-cap\"", "listed twice", "leader \"good\"",
                     "beyond 2^62"] {
            #expect(dropped.contains { $0.contains(name) }, "no reason mentions \(name): \(dropped)")
        }
        // Restoring the cleaned snapshot cannot trap on the version.
        _ = Registry(restoring: clean, config: RegistryConfig(), now: 2000)
    }

    @Test func aValidSnapshotIsUntouched() {
        var snapshot = RegistrySnapshot.empty
        snapshot.nodes = [Self.node("a"), Self.node("b", host: "::1")]
        snapshot.leader = LeaderRecord(nodeID: "a", term: 1 << 62, learnedAt: 1000)
        let (clean, dropped) = SnapshotValidation.clean(snapshot)
        #expect(clean == snapshot)
        #expect(dropped.isEmpty)
    }
}
