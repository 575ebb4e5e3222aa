/// HTTP/2 PING keepalive: a PING every `interval`; the connection is declared
/// dead and closed when its ACK has not arrived within `timeout`.
public struct Keepalive: Sendable, Equatable {
    public var interval: Duration
    public var timeout: Duration

    public init(interval: Duration, timeout: Duration = .seconds(20)) {
        self.interval = interval
        self.timeout = timeout
    }
}
