import Logging

/// The client role of an HTTP/2 connection: streams are `ClientStream`s.
final class ClientConnection: HTTP2Connection, @unchecked Sendable {
    // Invariant: as HTTP2Connection, confined to `loop`.
    private var streams: [Int32: ClientStream] = [:]
    private(set) var isReady = false
    /// GOAWAY received: no new streams here.
    private(set) var isDraining = false
    private let expectsTLS: Bool
    private let tlsConfig: TLSClientConfig?
    var onReady: (() -> Void)?
    var onGoAway: (() -> Void)?
    var onClosed: ((String) -> Void)?

    init(loop: EventLoop, bufferevent: OpaquePointer, peer: String, expectsTLS: Bool, tlsConfig: TLSClientConfig?,
         limits: ConnectionLimits, logger: Logger) {
        self.expectsTLS = expectsTLS
        self.tlsConfig = tlsConfig
        super.init(loop: loop, bufferevent: bufferevent, isServer: false, peer: peer, limits: limits, logger: logger)
    }

    var canOpenStreams: Bool { isReady && !isDraining && !isClosed }

    func open(_ stream: ClientStream, headers: [(String, String)]) -> Int32? {
        guard canOpenStreams, let id = submitRequest(headers: headers, body: stream.body) else { return nil }
        streams[id] = stream
        return id
    }

    func forget(_ stream: Int32) { streams[stream] = nil }

    override func didConnect() {
        if expectsTLS, tlsNegotiatedH2 != true {
            close(reason: "server did not negotiate HTTP/2 (ALPN h2)")
            return
        }
        if let tlsConfig, tlsConfig.checksIdentity {
            let presented = verifiedPeerIdentity
            guard tlsConfig.accepts(presented) else {
                let expected = tlsConfig.expectedServerIdentity.map(String.init(describing:)) ?? "a \(tlsConfig.expectedServerRole!.rawValue)"
                close(reason: "server at \(peer) presented \(presented.map { "the certificate of \($0)" } ?? "no cluster identity"), expected \(expected)")
                return
            }
        }
        setNoDelay()
        startSession()
        isReady = true
        onReady?()
    }

    override func headersBegan(stream: Int32) { streams[stream]?.headerBlockBegan() }

    override func header(stream: Int32, name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) -> Bool {
        streams[stream]?.header(name: String(decoding: name, as: UTF8.self), value: String(decoding: value, as: UTF8.self))
        return true
    }

    override func headersEnded(stream: Int32, endStream: Bool) {
        streams[stream]?.headerBlockEnded(endStream: endStream)
    }

    override func dataReceived(stream: Int32, bytes: UnsafeRawBufferPointer) -> Bool {
        streams[stream]?.dataReceived(bytes) ?? false
    }

    override func remoteEnded(stream: Int32) {
        streams[stream]?.remoteEndedWithoutTrailers()
    }

    override func streamClosed(stream: Int32, errorCode: UInt32) {
        streams.removeValue(forKey: stream)?.streamClosed(errorCode: errorCode)
    }

    override func goAwayReceived(lastStreamID: Int32, errorCode: UInt32) {
        isDraining = true
        onGoAway?()
    }

    override func didClose(reason: String) {
        let open = streams
        streams = [:]
        for stream in open.values { stream.connectionLost("connection to \(peer) closed: \(reason)") }
        onClosed?(reason)
    }
}
