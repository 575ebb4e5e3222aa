import GossipRPC
import InteropKit
import Testing

/// Every interop case, our client against our server, over one connection.
@Suite(.timeLimit(.minutes(1)))
struct InteropInProcessTests {
    @Test(arguments: InteropCases.all.map(\.name))
    func interopCase(name: String) async throws {
        try await withServer { _, channel in
            try await InteropCases.named(name)!(TestServiceClient(channel: channel))
        }
    }

    @Test func manyConcurrentCallsShareOneChannel() async throws {
        try await withServer { _, channel in
            let client = TestServiceClient(channel: channel)
            try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<200 {
                    group.addTask {
                        let response = try await client.unaryCall(T.SimpleRequest(responseSize: Int32(i)))
                        return response.message.payload?.body.count ?? -1
                    }
                }
                var sizes: [Int] = []
                for try await size in group { sizes.append(size) }
                #expect(sizes.sorted() == Array(0..<200))
            }
        }
    }

    @Test func largeMessagesCrossFlowControlWindows() async throws {
        let config = ServerConfig(maxReceiveMessageSize: 32 << 20)
        try await withServer([TestServiceProvider.service(maxResponseBytes: 32 << 20)], config: config,
                             channelConfig: ChannelConfig(maxReceiveMessageSize: 32 << 20)) { _, channel in
            let size = 16 << 20
            let response = try await TestServiceClient(channel: channel).unaryCall(
                T.SimpleRequest(responseSize: Int32(size), payload: T.Payload(body: [UInt8](repeating: 0, count: size))))
            #expect(response.message.payload?.body.count == size)
        }
    }
}
