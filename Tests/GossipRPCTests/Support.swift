import Foundation
import GossipRPC
import GossipWire
import InteropKit
import Testing

typealias T = GRPCTesting

/// Starts a server with `services` on a free loopback port, opens a channel
/// to it, runs `body`, and always shuts both down.
@discardableResult
func withServer<R>(
    _ services: [Service] = [TestServiceProvider.service],
    config: ServerConfig = ServerConfig(),
    channelConfig: ChannelConfig = ChannelConfig(),
    _ body: (Server, Channel) async throws -> R
) async throws -> R {
    let server = try Server(config: config, services: services)
    try server.start()
    let channel = try Channel(host: "127.0.0.1", port: server.port, config: channelConfig)
    do {
        let result = try await body(server, channel)
        await channel.close()
        await server.shutdown(grace: .seconds(1))
        return result
    } catch {
        await channel.close()
        await server.shutdown(grace: .seconds(1))
        throw error
    }
}

/// Runs `body` expecting `RPCError` with `code`; returns the error.
@discardableResult
func expectRPCError(_ code: StatusCode, sourceLocation: SourceLocation = #_sourceLocation,
                    _ body: () async throws -> Void) async -> RPCError? {
    do {
        try await body()
        Issue.record("expected \(code), but the call succeeded", sourceLocation: sourceLocation)
    } catch let error as RPCError {
        #expect(error.code == code, "got \(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected RPCError \(code), got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// A value one task sets and another awaits (for observing server handlers).
actor Signal<Value: Sendable> {
    private var value: Value?
    private var waiters: [CheckedContinuation<Value, Never>] = []

    func set(_ newValue: Value) {
        guard value == nil else { return }
        value = newValue
        for waiter in waiters { waiter.resume(returning: newValue) }
        waiters = []
    }

    func wait() async -> Value {
        if let value { return value }
        return await withCheckedContinuation { waiters.append($0) }
    }

    /// The value, or nil if it is not set within `timeout`.
    func wait(timeout: Duration) async -> Value? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let value { return value }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return value
    }
}

/// A free loopback port (bound, then released), chosen below the kernel's
/// ephemeral range so servers binding port 0 in parallel tests cannot take it.
func freePort() throws -> Int {
    for _ in 0..<200 {
        let candidate = Int.random(in: 20_000..<32_000)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(candidate).bigEndian)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        close(fd)
        if bound { return candidate }
    }
    throw RPCError(.internal, "no free port found below the ephemeral range")
}
