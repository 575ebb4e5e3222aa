/// GossipFL/SAPS model-exchange messages (gossip/v1/gossip.proto).
public enum GossipV1 {}

extension GossipV1 {
    /// `gossip.v1.TensorShape`
    public struct TensorShape: WireMessage {
        public var name: String
        public var dims: [UInt32]

        public init(name: String = "", dims: [UInt32] = []) {
            self.name = name
            self.dims = dims
        }
    }

    /// `gossip.v1.SparseModel`
    ///
    /// A sparsified model: values at the indices chosen by a mask shared through
    /// the round's seed, so only values travel.
    public struct SparseModel: WireMessage {
        public var round: UInt64
        public var senderId: String
        public var maskSeed: UInt64
        public var totalLength: UInt32
        public var values: [Float]
        public var shapes: [TensorShape]

        public init(
            round: UInt64 = 0,
            senderId: String = "",
            maskSeed: UInt64 = 0,
            totalLength: UInt32 = 0,
            values: [Float] = [],
            shapes: [TensorShape] = []
        ) {
            self.round = round
            self.senderId = senderId
            self.maskSeed = maskSeed
            self.totalLength = totalLength
            self.values = values
            self.shapes = shapes
        }
    }

    /// `gossip.v1.ExchangeAck`
    public struct ExchangeAck: WireMessage {
        public var round: UInt64
        public var receiverId: String

        public init(round: UInt64 = 0, receiverId: String = "") {
            self.round = round
            self.receiverId = receiverId
        }
    }

    /// `gossip.v1.BandwidthProbe`
    public struct BandwidthProbe: WireMessage {
        public var senderId: String
        public var padding: [UInt8]

        public init(senderId: String = "", padding: [UInt8] = []) {
            self.senderId = senderId
            self.padding = padding
        }
    }

    /// `gossip.v1.BandwidthReport`
    public struct BandwidthReport: WireMessage {
        public var reporterId: String
        public var mbpsToPeer: [String: Double]

        public init(reporterId: String = "", mbpsToPeer: [String: Double] = [:]) {
            self.reporterId = reporterId
            self.mbpsToPeer = mbpsToPeer
        }
    }

    /// `gossip.v1.ReportAck`
    public struct ReportAck: WireMessage {
        public init() {}
    }
}
