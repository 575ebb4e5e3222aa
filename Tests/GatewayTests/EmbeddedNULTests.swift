import Discovery
import Foundation
import Gateway
import GossipRPC
import GossipWire
import Testing

/// protobuf-c hands strings over NUL-terminated: "base-1\0evil" used to arrive as "base-1".
@Suite(.timeLimit(.minutes(1)))
struct EmbeddedNULTests {
    /// A protobuf length-delimited field.
    static func field(_ number: UInt8, _ bytes: [UInt8]) -> [UInt8] {
        precondition(bytes.count < 128)
        return [number << 3 | 2, UInt8(bytes.count)] + bytes
    }

    static func rawRegister(id: [UInt8], host: [UInt8] = Array("10.9.9.9".utf8), capability: [UInt8] = Array("gpu".utf8),
                            cluster: [UInt8] = []) -> RawBytes {
        let address = field(1, host) + [0x10, 0xA8, 0x46]  // port 9000
        return RawBytes(field(1, id) + field(2, address) + field(3, capability) + (cluster.isEmpty ? [] : field(4, cluster)))
    }

    @Test func nulInAnyRegisterStringIsInvalidArgumentNamingTheFieldAndChangesNothing() async throws {
        try await withGateway { _, channel in
            _ = try await channel.unary(Methods.register, registration("base-1", port: 9000))
            let before = try await channel.unary(Methods.listPeers, G.ListPeersRequest())
            let cases: [(String, RawBytes)] = [
                ("node_id", Self.rawRegister(id: Array("base-1\0evil".utf8))),
                ("address.host", Self.rawRegister(id: Array("base-1".utf8), host: Array("10.9.9.9\0x".utf8))),
                ("capabilities", Self.rawRegister(id: Array("base-1".utf8), capability: Array("gpu\0".utf8))),
                ("cluster_id", Self.rawRegister(id: Array("base-1".utf8), cluster: Array("c\0d".utf8))),
            ]
            for (field, request) in cases {
                let error = await expectRPCError(.invalidArgument) { _ = try await channel.unary(Methods.rawRegister, request) }
                #expect(error?.message == "\(field) contains a NUL byte", "\(String(describing: error))")
            }
            let after = try await channel.unary(Methods.listPeers, G.ListPeersRequest())
            func view(_ r: G.ListPeersResponse) -> [String] { r.peers.map { "\($0.nodeId) \(String(describing: $0.address)) \($0.capabilities)" } }
            #expect(view(after) == view(before))
            #expect(after.registryVersion == before.registryVersion)
            #expect(after.peers.first?.address?.host == "127.0.0.1")
        }
    }

    @Test func nulInReportMembersAndCompatMetadataIsRefused() async throws {
        try await withGateway { _, channel in
            let report = MethodDescriptor<RawBytes, RawBytes>(service: "gateway.v1.Gateway", method: "ReportMembership")
            let member = Self.field(1, Array("m\0x".utf8))
            let error = await expectRPCError(.invalidArgument) {
                _ = try await channel.unary(report, RawBytes(Self.field(1, Array("r".utf8)) + Self.field(4, member)))
            }
            #expect(error?.message == "members.node_id contains a NUL byte")
            let compat = MethodDescriptor<RawBytes, RawBytes>(service: "GatewayService", method: "RegisterNode")
            let entry = Self.field(1, Array("role".utf8)) + Self.field(2, Array("w\0rker".utf8))
            let request = [0x08, 0x07] + Self.field(2, Array("127.0.0.1".utf8)) + [0x18, 0x01] + Self.field(5, entry)
            let compatError = await expectRPCError(.invalidArgument) { _ = try await channel.unary(compat, RawBytes(request)) }
            #expect(compatError?.message == "metadata.value contains a NUL byte")
            let peers = try await channel.unary(Methods.listPeers, G.ListPeersRequest()).peers
            #expect(peers.isEmpty)
        }
    }

    @Test func wireScanNamesNestedFields() {
        let bytes = Self.rawRegister(id: Array("ok".utf8), host: Array("h\0".utf8)).bytes
        let found = bytes.withUnsafeBytes { G.RegisterRequest.stringFieldsContainingNUL(in: $0) }
        #expect(found == ["address.host"])
        let clean = Self.rawRegister(id: Array("ok".utf8)).bytes.withUnsafeBytes { G.RegisterRequest.stringFieldsContainingNUL(in: $0) }
        #expect(clean.isEmpty)
    }
}
