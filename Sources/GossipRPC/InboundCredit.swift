/// Manual HTTP/2 flow control for one connection. nghttp2's automatic
/// WINDOW_UPDATE reopens the peer's window as soon as DATA arrives, so a peer
/// could make us buffer a partial message on every stream (streams × receive
/// limit). Here a DATA byte is returned to the peer's windows only while the
/// bytes the application has not taken yet stay within `budget`; above it the
/// windows close, and what the peer can still send is bounded by the
/// connection window. Pure bookkeeping: `HTTP2Connection` applies the credit.
struct InboundCredit {
    let budget: Int
    /// Received and not yet taken (or dropped) by the application.
    private(set) var held = 0
    /// Received on open streams and not yet returned to the peer.
    private var unreturned: [Int32: Int] = [:]
    /// Not returned when their stream closed: only the connection window needs them back.
    private var unreturnedOnClosedStreams = 0

    init(budget: Int) { self.budget = budget }

    /// `count` DATA bytes arrived on `stream` and are now held.
    mutating func received(stream: Int32, _ count: Int) {
        held += count
        unreturned[stream, default: 0] += count
    }

    /// The application took or dropped `count` held bytes.
    mutating func released(_ count: Int) {
        held -= min(count, held)
    }

    mutating func streamClosed(_ stream: Int32) {
        if let pending = unreturned.removeValue(forKey: stream) { unreturnedOnClosedStreams += pending }
    }

    /// What may go back to the peer now: per-stream credit (also counted at the
    /// connection level) and connection-only credit; nothing while over budget.
    mutating func takeReturnable() -> (streams: [(stream: Int32, bytes: Int)], connectionOnly: Int)? {
        guard held <= budget, !unreturned.isEmpty || unreturnedOnClosedStreams > 0 else { return nil }
        let streams = unreturned.map { (stream: $0.key, bytes: $0.value) }
        let connectionOnly = unreturnedOnClosedStreams
        unreturned.removeAll(keepingCapacity: true)
        unreturnedOnClosedStreams = 0
        return (streams, connectionOnly)
    }

    var isOverBudget: Bool { held > budget }
}
