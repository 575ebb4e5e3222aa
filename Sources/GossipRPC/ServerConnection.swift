import CNGHTTP2
import Logging

/// The server role of an HTTP/2 connection: each client stream is a `ServerCall`.
final class ServerConnection: HTTP2Connection, @unchecked Sendable {
    // Invariant: as HTTP2Connection, confined to `loop`.
    let server: ServerCore
    private var calls: [Int32: ServerCall] = [:]
    /// The caller's verified certificate identity (mutual TLS). Set once when the handshake
    /// completes, before any stream can open, and only read afterwards.
    private(set) var peerIdentity: PeerIdentity?
    let verifiesClients: Bool
    /// Header blocks refused for size; a client that keeps sending them is cut off.
    private var oversizedHeaderBlocks = 0
    static let oversizedHeaderBlockLimit = 3

    init(server: ServerCore, loop: EventLoop, bufferevent: OpaquePointer, peer: String, verifiesClients: Bool) {
        self.server = server
        self.verifiesClients = verifiesClients
        super.init(loop: loop, bufferevent: bufferevent, isServer: true, peer: peer,
                   limits: server.config.effectiveConnectionLimits, logger: server.logger)
    }

    override func headersBegan(stream: Int32) {
        // A second HEADERS block on a known stream is the client's trailers: ignored.
        if calls[stream] == nil {
            calls[stream] = ServerCall(stream: stream, connection: self)
            cancelIdleTimeout()
        }
    }

    /// The TLS handshake is done: insist on HTTP/2 and learn who the client is.
    override func didConnect() {
        guard tlsNegotiatedH2 == true else {
            logger.debug("closing TLS connection from \(peer): ALPN did not select h2")
            close(reason: "client did not negotiate HTTP/2 (ALPN h2)")
            return
        }
        if verifiesClients { peerIdentity = verifiedPeerIdentity }
    }

    /// Starts the clocks a connection must beat: handshake, then idleness.
    func armTimeouts() {
        armHandshakeTimeout(server.config.handshakeTimeout)
        armIdleIfQuiet()
    }

    private func armIdleIfQuiet() {
        if calls.isEmpty, let idle = server.config.idleTimeout { armIdleTimeout(idle) }
    }

    override func header(stream: Int32, name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let call = calls[stream] else { return true }
        if call.addHeader(name: name, value: value) { return true }
        oversizedHeaderBlocks += 1
        if oversizedHeaderBlocks >= Self.oversizedHeaderBlockLimit {
            logger.info("closing connection from \(peer): \(oversizedHeaderBlocks) oversized header blocks")
            terminate(errorCode: NGHTTP2_ENHANCE_YOUR_CALM)
        }
        return false
    }

    override func headersEnded(stream: Int32, endStream: Bool) {
        calls[stream]?.headersEnded(endStream: endStream)
    }

    override func dataReceived(stream: Int32, bytes: UnsafeRawBufferPointer) -> Bool {
        calls[stream]?.dataReceived(bytes) ?? false
    }

    override func remoteEnded(stream: Int32) {
        calls[stream]?.remoteEnded()
    }

    override func streamClosed(stream: Int32, errorCode: UInt32) {
        calls.removeValue(forKey: stream)?.streamClosed(errorCode: errorCode)
        armIdleIfQuiet()
    }

    override func didClose(reason: String) {
        logger.debug("connection from \(peer) closed: \(reason)")
        let open = calls
        calls = [:]
        for call in open.values { call.streamClosed(errorCode: 0) }
        server.connectionClosed(self)
    }

    var activeCalls: Int { calls.count }
}
