/// What one HTTP/2 connection may make us hold or do, on either side. A peer
/// can always open a connection; these bound what it costs.
public struct ConnectionLimits: Sendable, Equatable {
    /// Received bytes the application has not taken yet; above it the peer's
    /// flow-control windows stay closed (see `InboundCredit`).
    public var maxBufferedInboundBytes: Int
    /// Bytes queued for a peer that does not read; a send beyond it ends the call
    /// with RESOURCE_EXHAUSTED instead of growing the queue.
    public var maxQueuedOutboundBytes: Int

    public init(maxBufferedInboundBytes: Int = 16 << 20, maxQueuedOutboundBytes: Int = 64 << 20) {
        self.maxBufferedInboundBytes = maxBufferedInboundBytes
        self.maxQueuedOutboundBytes = maxQueuedOutboundBytes
    }

    /// Limits that fit messages of up to `maxMessageSize`: room for two of them in each direction.
    static func fitting(maxMessageSize: Int, _ limits: ConnectionLimits?) -> ConnectionLimits {
        if let limits { return limits }
        let defaults = ConnectionLimits()
        return ConnectionLimits(maxBufferedInboundBytes: max(defaults.maxBufferedInboundBytes, 2 * maxMessageSize),
                                maxQueuedOutboundBytes: max(defaults.maxQueuedOutboundBytes, 2 * maxMessageSize))
    }
}
