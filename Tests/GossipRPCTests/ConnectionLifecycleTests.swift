import Foundation
import GossipRPC
import GossipWire
import InteropKit
import Testing

@Suite(.timeLimit(.minutes(1)))
struct ConnectionLifecycleTests {
    @Test func keepalivePingsAreAcknowledged() async throws {
        let keepalive = ChannelConfig(keepalive: Keepalive(interval: .milliseconds(50), timeout: .seconds(2)))
        try await withServer(channelConfig: keepalive) { _, channel in
            _ = try await TestServiceClient(channel: channel).emptyCall()
            try await Task.sleep(for: .milliseconds(400))
            #expect(await channel.pingAcksReceived >= 2)
            #expect(await channel.isConnected)
        }
    }

    @Test func keepaliveDetectsAPeerThatNeverAnswers() async throws {
        // A listening socket nobody reads: TCP connects, HTTP/2 never answers.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 8) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        try #require(ok)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let config = ChannelConfig(keepalive: Keepalive(interval: .milliseconds(50), timeout: .milliseconds(200)))
        let channel = try Channel(host: "127.0.0.1", port: port, config: config)
        let start = ContinuousClock.now
        let error = await expectRPCError(.unavailable) { _ = try await TestServiceClient(channel: channel).emptyCall() }
        #expect(error?.message.contains("keepalive") == true)
        #expect(ContinuousClock.now - start < .seconds(5))
        await channel.close()
    }

    @Test func gracefulShutdownLetsCallsInFlightFinish() async throws {
        let probe = ProbeService()
        let server = try Server(config: ServerConfig(), services: [probe.service, TestServiceProvider.service])
        try server.start()
        let channel = try Channel(host: "127.0.0.1", port: server.port)
        let inFlight = Task { try await channel.unary(ProbeService.slow, T.Empty()) }
        #expect(await probe.started.wait(timeout: .seconds(5)) == true)
        await server.shutdown(grace: .seconds(5))
        _ = try await inFlight.value  // completed OK despite the shutdown
        #expect(server.connectionCount == 0)
        // Nothing listens any more: a new channel cannot connect.
        let late = try Channel(host: "127.0.0.1", port: server.port)
        await expectRPCError(.unavailable) { _ = try await TestServiceClient(channel: late).emptyCall() }
        await late.close()
        await channel.close()
    }

    @Test func channelFailsFastWhileBackingOffThenReconnects() async throws {
        let port = try freePort()
        // A wide backoff window, so a loaded machine cannot let it expire between the two calls
        // (2 s was not always enough while the training tests share the two cores).
        let backoff = Backoff(initial: .seconds(6), multiplier: 1, maximum: .seconds(6), jitter: 0)
        let channel = try Channel(host: "127.0.0.1", port: port, config: ChannelConfig(backoff: backoff))
        let client = TestServiceClient(channel: channel)
        let refused = await expectRPCError(.unavailable) { _ = try await client.emptyCall() }
        #expect(refused?.message.contains("failed to connect") == true)
        let start = ContinuousClock.now
        let backingOff = await expectRPCError(.unavailable) { _ = try await client.emptyCall() }
        #expect(backingOff?.message.contains("retrying later") == true, "\(String(describing: backingOff))")
        // Failing fast: no connect attempt, no waiting for the backoff to end.
        #expect(ContinuousClock.now - start < .seconds(1))

        let server = try Server(config: ServerConfig(port: port), services: [TestServiceProvider.service])
        try server.start()
        // Once the backoff ends, the next call connects.
        var connected = false
        let deadline = start + .seconds(20)
        while !connected, ContinuousClock.now < deadline {
            connected = (try? await client.emptyCall()) != nil
            if !connected { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(connected, "the channel never reconnected after the backoff")
        await channel.close()
        await server.shutdown()
    }

    @Test func channelRecoversAfterTheServerRestarts() async throws {
        let first = try Server(config: ServerConfig(), services: [TestServiceProvider.service])
        try first.start()
        let port = first.port
        let backoff = Backoff(initial: .milliseconds(20), multiplier: 1, maximum: .milliseconds(20), jitter: 0)
        let channel = try Channel(host: "127.0.0.1", port: port, config: ChannelConfig(backoff: backoff))
        let client = TestServiceClient(channel: channel)
        _ = try await client.emptyCall()
        await first.shutdown(grace: .milliseconds(100))
        let second = try Server(config: ServerConfig(port: port), services: [TestServiceProvider.service])
        try second.start()
        var succeeded = false
        for _ in 0..<50 where !succeeded {
            succeeded = (try? await client.emptyCall()) != nil
            if !succeeded { try await Task.sleep(for: .milliseconds(25)) }
        }
        #expect(succeeded)
        await channel.close()
        await second.shutdown()
    }

    @Test func garbageOnTheSocketClosesOnlyThatConnection() async throws {
        try await withServer { server, channel in
            let client = TestServiceClient(channel: channel)
            _ = try await client.emptyCall()
            for garbage in ["GET / HTTP/1.1\r\nHost: x\r\n\r\n", String(repeating: "\u{1}\u{2}zz", count: 100)] {
                let closed = try rawExchange(port: server.port, send: Array(garbage.utf8))
                #expect(closed, "server should close a connection that is not HTTP/2")
            }
            _ = try await client.emptyCall()
        }
    }
}

/// Sends bytes on a fresh TCP connection; true when the server then closes it
/// (EOF or reset) within two seconds.
func rawExchange(port: Int, send bytes: [UInt8]) throws -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw RPCError(.unavailable, "connect failed") }
    var timeout = timeval(tv_sec: 2, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = read(fd, &buffer, buffer.count)
        if n == 0 { return true }
        if n < 0 { return errno == ECONNRESET }
    }
}
