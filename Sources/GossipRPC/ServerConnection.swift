import Logging

/// The server role of an HTTP/2 connection: each client stream is a `ServerCall`.
final class ServerConnection: HTTP2Connection, @unchecked Sendable {
    // Invariant: as HTTP2Connection, confined to `loop`.
    let server: ServerCore
    private var calls: [Int32: ServerCall] = [:]

    init(server: ServerCore, loop: EventLoop, bufferevent: OpaquePointer, peer: String) {
        self.server = server
        super.init(loop: loop, bufferevent: bufferevent, isServer: true, peer: peer, logger: server.logger)
    }

    override func headersBegan(stream: Int32) {
        // A second HEADERS block on a known stream is the client's trailers: ignored.
        if calls[stream] == nil { calls[stream] = ServerCall(stream: stream, connection: self) }
    }

    override func header(stream: Int32, name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) -> Bool {
        calls[stream]?.addHeader(name: name, value: value) ?? true
    }

    override func headersEnded(stream: Int32, endStream: Bool) {
        calls[stream]?.headersEnded(endStream: endStream)
    }

    override func dataReceived(stream: Int32, bytes: UnsafeRawBufferPointer) {
        calls[stream]?.dataReceived(bytes)
    }

    override func remoteEnded(stream: Int32) {
        calls[stream]?.remoteEnded()
    }

    override func streamClosed(stream: Int32, errorCode: UInt32) {
        calls.removeValue(forKey: stream)?.streamClosed(errorCode: errorCode)
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
