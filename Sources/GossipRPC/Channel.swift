import CEvent
import Logging
import Synchronization

/// Client-side connection settings.
public struct ChannelConfig: Sendable {
    /// TLS with ALPN h2; nil for plain-text HTTP/2 (h2c, prior knowledge).
    public var tls: TLSClientConfig?
    /// The `:authority` sent; defaults to "host:port".
    public var authority: String?
    public var maxReceiveMessageSize: Int
    public var keepalive: Keepalive?
    public var connectTimeout: Duration
    public var backoff: Backoff
    public var userAgent: String
    /// Per-connection memory bounds; nil: sized for `maxReceiveMessageSize`.
    public var connectionLimits: ConnectionLimits?
    public var logger: Logger

    public init(tls: TLSClientConfig? = nil, authority: String? = nil, maxReceiveMessageSize: Int = 4 << 20,
                keepalive: Keepalive? = nil, connectTimeout: Duration = .seconds(20), backoff: Backoff = Backoff(),
                userAgent: String = "gossipfl-swift/0.1", connectionLimits: ConnectionLimits? = nil,
                logger: Logger = Logger(label: "gossipfl.rpc.client")) {
        self.tls = tls
        self.authority = authority
        self.maxReceiveMessageSize = maxReceiveMessageSize
        self.keepalive = keepalive
        self.connectTimeout = connectTimeout
        self.backoff = backoff
        self.userAgent = userAgent
        self.connectionLimits = connectionLimits
        self.logger = logger
    }

    var effectiveConnectionLimits: ConnectionLimits {
        ConnectionLimits.fitting(maxMessageSize: maxReceiveMessageSize, connectionLimits)
    }
}

/// A client's view of one server: it connects lazily, reuses one HTTP/2
/// connection for all calls, and reconnects with backoff after failures.
/// While backing off, calls fail fast with UNAVAILABLE.
public final class Channel: Sendable {
    let core: ChannelCore
    private let ownsLoop: Bool

    /// A channel to `host:port`. Without `loop` it runs its own loop thread.
    public init(host: String, port: Int, config: ChannelConfig = ChannelConfig(), loop: EventLoop? = nil) throws {
        let tls = try config.tls.map(TLSContext.client)
        ownsLoop = loop == nil
        core = ChannelCore(loop: loop ?? EventLoop(name: "gossipfl-channel"), host: host, port: port,
                           config: config, tls: tls)
    }

    public var loop: EventLoop { core.loop }

    /// Starts a call; messages flow through the returned stream.
    func startStream(path: String, options: CallOptions) -> ClientStream {
        let stream = ClientStream(loop: core.loop, path: path, options: options,
                                  maxReceiveMessageSize: core.config.maxReceiveMessageSize,
                                  connectionBudget: core.config.effectiveConnectionLimits.maxBufferedInboundBytes)
        core.loop.run { [core] in
            stream.armDeadline()
            core.start(stream)
        }
        return stream
    }

    /// Closes the connection (calls in flight fail with UNAVAILABLE) and,
    /// when the channel owns its loop, stops it.
    public func close() async {
        await core.loop.submit { [core] in core.shutdown() }
        if ownsLoop {
            await core.loop.submit {}  // let teardown run
            core.loop.shutdown()
        }
    }

    /// Whether a connection is currently up, for tests and status.
    public var isConnected: Bool {
        get async { await core.loop.submit { [core] in core.isReady } }
    }

    /// PING acks received on the current connection (keepalive tests).
    public var pingAcksReceived: Int {
        get async { await core.loop.submit { [core] in core.pingAcks } }
    }
}

/// The channel's connection state machine. Loop thread only.
final class ChannelCore: @unchecked Sendable {
    // Invariant: every var is touched on `loop` only.
    let loop: EventLoop
    let host: String
    let port: Int
    let config: ChannelConfig
    private let tls: TLSContext?

    private enum State {
        case idle
        case connecting(ClientConnection, waiting: [ClientStream])
        case ready(ClientConnection)
        case backingOff(until: ContinuousClock.Instant, reason: String)
        case shutDown
    }

    private var state = State.idle
    private var failedAttempts = 0
    private var random = SystemRandomNumberGenerator()

    init(loop: EventLoop, host: String, port: Int, config: ChannelConfig, tls: TLSContext?) {
        self.loop = loop
        self.host = host
        self.port = port
        self.config = config
        self.tls = tls
    }

    var isReady: Bool {
        if case .ready(let connection) = state { return connection.canOpenStreams }
        return false
    }

    var pingAcks: Int {
        if case .ready(let connection) = state { return connection.pingAcksReceived }
        return 0
    }

    private var requestHeaders: [(String, String)] {
        [
            (":method", "POST"), (":scheme", tls == nil ? "http" : "https"),
            (":authority", config.authority ?? "\(host):\(port)"),
            ("content-type", "application/grpc"), ("te", "trailers"), ("user-agent", config.userAgent),
        ]
    }

    func start(_ stream: ClientStream) {
        guard !stream.isFinished else { return }
        switch state {
        case .ready(let connection) where connection.canOpenStreams:
            attach(stream, to: connection)
        case .ready, .idle:
            connect(first: stream)
        case .connecting(let connection, var waiting):
            waiting.append(stream)
            state = .connecting(connection, waiting: waiting)
        case .backingOff(let until, let reason):
            if ContinuousClock.now < until {
                stream.connectionLost("\(host):\(port) unavailable (retrying later): \(reason)")
            } else {
                connect(first: stream)
            }
        case .shutDown:
            stream.connectionLost("channel closed")
        }
    }

    private func attach(_ stream: ClientStream, to connection: ClientConnection) {
        var headers = requestHeaders
        headers.insert((":path", stream.path), at: 1)
        stream.attach(to: connection, headers: headers)
    }

    private func connect(first stream: ClientStream) {
        let bev: OpaquePointer?
        let address: SocketAddress
        do {
            address = try SocketAddress.resolve(host: host, port: port)
        } catch {
            fail([stream], reason: "\(error)")
            return
        }
        let options = Int32(BEV_OPT_CLOSE_ON_FREE.rawValue)
        if let tls {
            let name = config.tls?.serverNameOverride ?? host
            guard let ssl = tls.makeClientSSL(hostname: name) else {
                fail([stream], reason: "SSL_new failed")
                return
            }
            bev = bufferevent_openssl_socket_new(loop.base, -1, ssl, BUFFEREVENT_SSL_CONNECTING, options)
            if let bev { bufferevent_openssl_set_allow_dirty_shutdown(bev, 1) }
        } else {
            bev = bufferevent_socket_new(loop.base, -1, options)
        }
        guard let bev else {
            fail([stream], reason: "cannot create socket")
            return
        }
        let connection = ClientConnection(loop: loop, bufferevent: bev, peer: "\(host):\(port)",
                                          expectsTLS: tls != nil, tlsConfig: tls?.clientConfig,
                                          limits: config.effectiveConnectionLimits,
                                          logger: config.logger)
        state = .connecting(connection, waiting: [stream])
        connection.onReady = { [unowned self, unowned connection] in connectionReady(connection) }
        connection.onGoAway = { [unowned self, unowned connection] in
            if case .ready(let current) = state, current === connection { state = .idle }
        }
        connection.onClosed = { [unowned self, unowned connection] reason in connectionClosed(connection, reason: reason) }
        let rv = address.withSockaddr { bufferevent_socket_connect(bev, $0, $1) }
        if rv != 0 {
            connection.close(reason: "connect failed")
            return
        }
        _ = LoopTimer(loop: loop, after: config.connectTimeout) { [weak connection] in
            guard let connection, !connection.isReady else { return }
            connection.close(reason: "connect timed out")
        }
    }

    private func connectionReady(_ connection: ClientConnection) {
        guard case .connecting(let current, let waiting) = state, current === connection else {
            connection.close(reason: "channel no longer needs this connection")
            return
        }
        failedAttempts = 0
        state = .ready(connection)
        if let keepalive = config.keepalive { connection.startKeepalive(keepalive) }
        for stream in waiting { attach(stream, to: connection) }
    }

    private func connectionClosed(_ connection: ClientConnection, reason: String) {
        switch state {
        case .connecting(let current, let waiting) where current === connection:
            let delay = config.backoff.delay(attempt: failedAttempts, unit: Double.random(in: 0..<1, using: &random))
            failedAttempts += 1
            let message = "failed to connect to \(host):\(port): \(reason)"
            config.logger.debug("\(message); next attempt allowed in \(delay)")
            state = .backingOff(until: .now + delay, reason: message)
            fail(waiting, reason: message)
        case .ready(let current) where current === connection:
            state = .idle
        default:
            break
        }
    }

    private func fail(_ streams: [ClientStream], reason: String) {
        for stream in streams { stream.connectionLost(reason) }
    }

    func shutdown() {
        switch state {
        case .connecting(let connection, let waiting):
            fail(waiting, reason: "channel closed")
            connection.close(reason: "channel closed")
        case .ready(let connection):
            connection.close(reason: "channel closed")
        default:
            break
        }
        state = .shutDown
    }
}
