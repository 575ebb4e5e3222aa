import CEvent
import COpenSSL
import Foundation
import Glibc
import Logging
import Synchronization

/// How a server listens and what it accepts.
public struct ServerConfig: Sendable {
    public var host: String
    /// 0 picks a free port; `Server.port` tells which.
    public var port: Int
    public var tls: TLSServerConfig?
    /// Larger request messages end the call with RESOURCE_EXHAUSTED.
    public var maxReceiveMessageSize: Int
    public var keepalive: Keepalive?
    /// Event-loop threads serving connections.
    public var loopCount: Int
    /// Per-connection memory bounds; nil: sized for `maxReceiveMessageSize`.
    public var connectionLimits: ConnectionLimits?
    /// A connection whose TLS handshake and HTTP/2 preface are not done by then is closed.
    public var handshakeTimeout: Duration = .seconds(10)
    /// A connection without calls for this long gets GOAWAY and is closed (nil: never).
    public var idleTimeout: Duration? = .seconds(300)
    /// Connections beyond this are closed as soon as they are accepted, so file descriptors
    /// stay for the rest of the process (default: three quarters of the open-file limit).
    public var maxConnections: Int = OpenFileLimit.defaultMaxConnections
    public var logger: Logger

    public init(host: String = "127.0.0.1", port: Int = 0, tls: TLSServerConfig? = nil,
                maxReceiveMessageSize: Int = 4 << 20, keepalive: Keepalive? = nil, loopCount: Int = 1,
                connectionLimits: ConnectionLimits? = nil, logger: Logger = Logger(label: "gossipfl.rpc.server")) {
        self.host = host
        self.port = port
        self.tls = tls
        self.maxReceiveMessageSize = maxReceiveMessageSize
        self.keepalive = keepalive
        self.loopCount = max(1, loopCount)
        self.connectionLimits = connectionLimits
        self.logger = logger
    }

    var effectiveConnectionLimits: ConnectionLimits {
        ConnectionLimits.fitting(maxMessageSize: maxReceiveMessageSize, connectionLimits)
    }
}

/// What every connection of a server shares: routing and configuration.
final class ServerCore: Sendable {
    let config: ServerConfig
    let logger: Logger
    private let routes: [String: RPCHandler]
    private let serviceNames: Set<String>
    private let connections = Mutex<[ObjectIdentifier: ServerConnection]>([:])
    /// Accepted sockets, counted from accept until their connection closes.
    private let admitted = Mutex(0)
    private let allClosed = AsyncPromise<Void>()

    init(config: ServerConfig, services: [Service]) {
        self.config = config
        self.logger = config.logger
        var routes: [String: RPCHandler] = [:]
        for service in services {
            for (method, handler) in service.handlers { routes["/\(service.name)/\(method)"] = handler }
        }
        self.routes = routes
        self.serviceNames = Set(services.map(\.name))
    }

    func handler(for path: String) -> RPCHandler? { routes[path] }

    func unimplementedStatus(for path: String) -> RPCStatus {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        if parts.count == 2, !serviceNames.contains(String(parts[0])) {
            return RPCStatus(code: .unimplemented, message: "unknown service \(parts[0])")
        }
        return RPCStatus(code: .unimplemented, message: "method not found: \(path)")
    }

    func connectionOpened(_ connection: ServerConnection) {
        connections.withLock { $0[ObjectIdentifier(connection)] = connection }
    }

    func connectionClosed(_ connection: ServerConnection) {
        connections.withLock { $0[ObjectIdentifier(connection)] = nil }
        releaseAdmission()
    }

    /// Counts an accepted socket in; false when the server is at `maxConnections`.
    func admit() -> Bool {
        admitted.withLock { count in
            guard count < config.maxConnections else { return false }
            count += 1
            return true
        }
    }

    func releaseAdmission() { admitted.withLock { $0 -= 1 } }

    var openConnections: [ServerConnection] { connections.withLock { Array($0.values) } }
}

/// A gRPC server: listens, accepts h2c or TLS connections and routes calls to
/// its services.
public final class Server: Sendable {
    let core: ServerCore
    private let loops: [EventLoop]
    private let tls: TLSContext?
    private let state = Mutex(ListenerState())

    private struct ListenerState {
        var listener: ListenerHandle?
        var port = 0
        var nextLoop = 0
        var stopped = false
        var refusedLog = RateLimitedLog(interval: .seconds(10))
        var acceptErrorLog = RateLimitedLog(interval: .seconds(10))
        /// After accept() fails (EMFILE: out of file descriptors) the listener pauses this long, doubling to 1 s.
        var acceptBackoff: Duration = .zero
    }

    /// Creates a server; nothing listens until `start()`.
    public init(config: ServerConfig, services: [Service]) throws {
        core = ServerCore(config: config, services: services)
        tls = try config.tls.map(TLSContext.server)
        loops = (0..<config.loopCount).map { EventLoop(name: "gossipfl-server-\($0)") }
    }

    /// The bound port (after `start()`).
    public var port: Int { state.withLock { $0.port } }

    /// Binds and starts accepting. Throws when the address cannot be bound.
    public func start() throws {
        let address = try SocketAddress.resolve(host: core.config.host, port: core.config.port)
        let box = Unmanaged.passRetained(self)
        let result: Result<ListenerHandle, Error> = try loops[0].submitAndWait { [self] in
            let listener = address.withSockaddr { sa, len in
                evconnlistener_new_bind(loops[0].base, { _, fd, sa, len, ctx in
                    Unmanaged<Server>.fromOpaque(ctx!).takeUnretainedValue().accepted(fd: fd, address: sa, length: len)
                }, box.toOpaque(), UInt32(LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE), 511, sa, len)
            }
            guard let listener else {
                return .failure(RPCError(.unavailable, "cannot listen on \(core.config.host):\(core.config.port): \(String(cString: strerror(errno)))"))
            }
            // Without an error callback libevent logs every failed accept and retries at once:
            // out of descriptors, that is a busy loop writing megabytes of warnings a second.
            evconnlistener_set_error_cb(listener) { listener, ctx in
                Unmanaged<Server>.fromOpaque(ctx!).takeUnretainedValue().acceptFailed(listener!)
            }
            return .success(ListenerHandle(pointer: listener, retainedServer: box))
        }
        let handle: ListenerHandle
        do {
            handle = try result.get()
        } catch {
            box.release()
            throw error
        }
        let port = SocketAddress.localPort(of: evconnlistener_get_fd(handle.pointer))
        state.withLock {
            $0.listener = handle
            $0.port = port
        }
        core.logger.info("listening on \(core.config.host):\(port)\(tls == nil ? "" : " (TLS)")")
    }

    private func accepted(fd: Int32, address: UnsafeMutablePointer<sockaddr>?, length: Int32) {
        let peer = address.map { SocketAddress.describe($0) } ?? "unknown"
        state.withLock { $0.acceptBackoff = .zero }
        guard core.admit() else {
            Glibc.close(fd)
            let limit = core.config.maxConnections
            if let suppressed = state.withLock({ $0.refusedLog.shouldLog(now: .now) }) {
                core.logger.warning("refusing connections: \(limit) already open (\(suppressed + 1) refused since the last report)")
            }
            return
        }
        _ = gfl_set_nodelay(fd)
        evutil_make_socket_nonblocking(fd)
        let loop = state.withLock { s -> EventLoop in
            defer { s.nextLoop = (s.nextLoop + 1) % loops.count }
            return loops[s.nextLoop]
        }
        loop.run { [self] in openConnection(fd: fd, peer: peer, loop: loop) }
    }

    private func openConnection(fd: Int32, peer: String, loop: EventLoop) {
        let options = Int32(BEV_OPT_CLOSE_ON_FREE.rawValue)
        let bev: OpaquePointer?
        if let tls {
            guard let ssl = tls.makeServerSSL() else {
                Glibc.close(fd)
                core.releaseAdmission()
                return
            }
            bev = bufferevent_openssl_socket_new(loop.base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING, options)
            if let bev { bufferevent_openssl_set_allow_dirty_shutdown(bev, 1) }
        } else {
            bev = bufferevent_socket_new(loop.base, fd, options)
        }
        guard let bev else {
            Glibc.close(fd)
            core.releaseAdmission()
            return
        }
        let connection = ServerConnection(server: core, loop: loop, bufferevent: bev, peer: peer,
                                          verifiesClients: tls?.verifiesClients ?? false)
        core.connectionOpened(connection)
        connection.startSession()
        connection.armTimeouts()
        if let keepalive = core.config.keepalive { connection.startKeepalive(keepalive) }
    }

    /// accept() failed (loop 0). Out of descriptors, the pending connection stays pending and the
    /// listener would fire again at once: pause it, back off, and log one line per interval.
    private func acceptFailed(_ listener: OpaquePointer) {
        let error = errno
        let (pause, suppressed) = state.withLock { s -> (Duration, Int?) in
            s.acceptBackoff = min(max(s.acceptBackoff * 2, .milliseconds(50)), .seconds(1))
            return (s.acceptBackoff, s.acceptErrorLog.shouldLog(now: .now))
        }
        if let suppressed {
            let reason = String(cString: strerror(error))
            core.logger.warning("accept failed: \(reason); pausing the listener for \(pause) (\(suppressed + 1) failures since the last report)")
        }
        evconnlistener_disable(listener)
        _ = LoopTimer(loop: loops[0], after: pause) { [self] in
            if state.withLock({ $0.listener?.pointer == listener && !$0.stopped }) { evconnlistener_enable(listener) }
        }
    }

    /// Stops accepting, sends GOAWAY, lets calls in flight finish for up to
    /// `grace`, then closes what is left and stops the loops.
    public func shutdown(grace: Duration = .seconds(5)) async {
        let handle = state.withLock { s -> ListenerHandle? in
            guard !s.stopped else { return nil }
            s.stopped = true
            defer { s.listener = nil }
            return s.listener
        }
        if let handle {
            await loops[0].submit { evconnlistener_free(handle.pointer) }
            handle.retainedServer.release()
        }
        for connection in core.openConnections {
            connection.loop.run { connection.sendGoAway(final: false) }
        }
        // One round trip for in-flight requests to arrive, then the final GOAWAY.
        try? await Task.sleep(for: .milliseconds(50))
        for connection in core.openConnections {
            connection.loop.run { connection.sendGoAway(final: true) }
        }
        let deadline = ContinuousClock.now + grace
        while !core.openConnections.isEmpty && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        for connection in core.openConnections {
            await connection.loop.submit { connection.close(reason: "server shutdown") }
        }
        // Let teardown (end of tick) run, then stop the threads.
        for loop in loops { await loop.submit {} }
        for loop in loops { loop.shutdown() }
    }

    /// Live connection count, for tests and status.
    public var connectionCount: Int { core.openConnections.count }
}

/// An evconnlistener and the retain that keeps its callback's Server alive.
struct ListenerHandle: @unchecked Sendable {
    // Invariant: the listener pointer is used and freed on loop 0 only.
    let pointer: OpaquePointer
    let retainedServer: Unmanaged<Server>
}

extension EventLoop {
    /// Runs `body` on the loop and returns its value.
    func submit<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        if inLoop { return body() }
        return await withCheckedContinuation { continuation in
            execute { continuation.resume(returning: body()) }
        }
    }

    /// Runs `body` on the loop, blocking this (non-loop) thread until done.
    func submitAndWait<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
        if inLoop { return try body() }
        let result = Mutex<Result<T, Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        execute {
            let value = Result { try body() }
            result.withLock { $0 = value }
            done.signal()
        }
        done.wait()
        return try result.withLock { $0! }.get()
    }
}
