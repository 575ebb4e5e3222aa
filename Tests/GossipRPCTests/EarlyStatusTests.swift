import Foundation
import GossipRPC
import GossipWire
import InteropKit
import Testing

/// A server that answers before the request is in (RESOURCE_EXHAUSTED on the prefix) must end
/// the call at once: the server resets the stream after its trailers and the client stops
/// sending the rest of the body (RFC 9113 §8.1).
@Suite(.timeLimit(.minutes(1)))
struct EarlyStatusTests {
    static let limit = 8 << 20

    static var limitedService: Service {
        var service = TestServiceProvider.service
        service.limitRequests(of: "UnaryCall", to: limit)
        return service
    }

    /// `parkCaller`: the calling task's thread is held for 300 ms once its first send is queued,
    /// so the server's early status reliably arrives before the caller waits for the send buffer
    /// to drain (on a busy pool that happens by chance, and the call hung).
    @Test(arguments: [false, true])
    func oversizedUnaryRequestEndsPromptlyWithResourceExhausted(parkCaller: Bool) async throws {
        let config = ServerConfig(maxReceiveMessageSize: 32 << 20)
        let callerLoop = EventLoop(name: "early-status-caller")
        defer { callerLoop.shutdown() }
        try await withServer([Self.limitedService], config: config) { _, channel in
            let client = TestServiceClient(channel: channel)
            let big = T.SimpleRequest(payload: T.Payload(body: [UInt8](repeating: 7, count: 9 << 20)))
            for _ in 0..<3 {
                _ = try await client.emptyCall()
                let start = ContinuousClock.now
                // A detached task and a polled signal: a hung call must fail the test (a task group
                // would wait for its hung child forever).
                let outcome = Signal<StatusCode>()
                let call = Task(executorPreference: callerLoop) {
                    if parkCaller { callerLoop.execute { usleep(300_000) } }
                    do {
                        _ = try await client.unaryCall(big)
                        await outcome.set(.ok)
                    } catch let error as RPCError {
                        await outcome.set(error.code)
                    }
                }
                let code = await outcome.wait(timeout: .seconds(8))
                call.cancel()
                #expect(code == .resourceExhausted)
                #expect(ContinuousClock.now - start < .seconds(5))
            }
            // The connection still serves calls within the limit.
            let small = try await client.unaryCall(T.SimpleRequest(responseSize: 16))
            #expect(small.message.payload?.body.count == 16)
            #expect(await channel.isConnected)
        }
    }
}
