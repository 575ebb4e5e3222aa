/// Per-call settings on the client.
public struct CallOptions: Sendable {
    /// The call fails with DEADLINE_EXCEEDED when it runs longer (sent to the
    /// server as `grpc-timeout`).
    public var timeout: Duration?
    public var metadata: Metadata
    /// Overrides the channel's receive limit for this call.
    public var maxReceiveMessageSize: Int?

    public init(timeout: Duration? = nil, metadata: Metadata = Metadata(), maxReceiveMessageSize: Int? = nil) {
        self.timeout = timeout
        self.metadata = metadata
        self.maxReceiveMessageSize = maxReceiveMessageSize
    }
}
