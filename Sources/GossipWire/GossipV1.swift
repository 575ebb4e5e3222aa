/// GossipFL/SAPS model-exchange messages (gossip/v1/gossip.proto).
public enum GossipV1 {}

extension GossipV1 {
    /// `gossip.v1.ValueEncoding`: open, so unknown values round-trip.
    public struct ValueEncoding: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        public static let unspecified = Self(rawValue: 0)
        /// IEEE binary32, little-endian: 4 bytes a value.
        public static let float32LE = Self(rawValue: 1)
        /// IEEE binary16, little-endian, times its block's scale.
        public static let float16LEScaled = Self(rawValue: 2)

        public var description: String {
            switch self {
            case .unspecified: "VALUE_ENCODING_UNSPECIFIED"
            case .float32LE: "FLOAT32_LE"
            case .float16LEScaled: "FLOAT16_LE_SCALED"
            default: "ValueEncoding(\(rawValue))"
            }
        }
    }

    /// `gossip.v1.ModelValues`: one partner's half of a round's exchange (values only; the mask
    /// is derived by both from committed state).
    public struct ModelValues: WireMessage {
        public var runId: String
        public var round: UInt64
        public var senderId: String
        public var encoding: ValueEncoding
        public var values: WireBytes
        public var scales: [Float]
        public var blockLengths: [UInt32]

        public init(runId: String = "", round: UInt64 = 0, senderId: String = "", encoding: ValueEncoding = .unspecified,
                    values: WireBytes = [], scales: [Float] = [], blockLengths: [UInt32] = []) {
            self.runId = runId
            self.round = round
            self.senderId = senderId
            self.encoding = encoding
            self.values = values
            self.scales = scales
            self.blockLengths = blockLengths
        }

        public init(runId: String = "", round: UInt64 = 0, senderId: String = "", encoding: ValueEncoding = .unspecified,
                    values: [UInt8], scales: [Float] = [], blockLengths: [UInt32] = []) {
            self.init(runId: runId, round: round, senderId: senderId, encoding: encoding, values: WireBytes(values),
                      scales: scales, blockLengths: blockLengths)
        }
    }

    /// `gossip.v1.FetchModelRequest`
    public struct FetchModelRequest: WireMessage {
        public var runId: String
        public var requesterId: String
        public var chunkValues: UInt32

        public init(runId: String = "", requesterId: String = "", chunkValues: UInt32 = 0) {
            self.runId = runId
            self.requesterId = requesterId
            self.chunkValues = chunkValues
        }
    }

    /// `gossip.v1.ModelChunk`: one piece of a streamed model.
    public struct ModelChunk: WireMessage {
        public var runId: String
        public var round: UInt64
        public var architecture: String
        public var totalValues: UInt64
        public var offset: UInt64
        public var values: WireBytes
        public var crc32c: UInt32

        public init(runId: String = "", round: UInt64 = 0, architecture: String = "", totalValues: UInt64 = 0, offset: UInt64 = 0,
                    values: WireBytes = [], crc32c: UInt32 = 0) {
            self.runId = runId
            self.round = round
            self.architecture = architecture
            self.totalValues = totalValues
            self.offset = offset
            self.values = values
            self.crc32c = crc32c
        }

        public init(runId: String = "", round: UInt64 = 0, architecture: String = "", totalValues: UInt64 = 0, offset: UInt64 = 0,
                    values: [UInt8], crc32c: UInt32 = 0) {
            self.init(runId: runId, round: round, architecture: architecture, totalValues: totalValues, offset: offset,
                      values: WireBytes(values), crc32c: crc32c)
        }
    }

    /// `gossip.v1.ProbeRequest`
    public struct ProbeRequest: WireMessage {
        public var senderId: String
        public var payload: [UInt8]
        public var replyBytes: UInt32

        public init(senderId: String = "", payload: [UInt8] = [], replyBytes: UInt32 = 0) {
            self.senderId = senderId
            self.payload = payload
            self.replyBytes = replyBytes
        }
    }

    /// `gossip.v1.ProbeResponse`
    public struct ProbeResponse: WireMessage {
        public var payload: [UInt8]

        public init(payload: [UInt8] = []) { self.payload = payload }
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

    /// `gossip.v1.StatusRequest`
    public struct StatusRequest: WireMessage {
        public init() {}
    }

    /// `gossip.v1.TrainingStatus`: a peer's view of its own training.
    public struct TrainingStatus: WireMessage {
        public var nodeId: String
        public var runId: String
        public var round: UInt64
        public var epoch: Double
        public var training: Bool
        public var partnerId: String
        public var testAccuracy: Double
        public var evaluatedRound: UInt64
        public var megabytesSent: Double
        public var exchanges: UInt64
        public var missedExchanges: UInt64
        public var linkPeers: [String]
        public var linkMbps: [Double]

        public init(nodeId: String = "", runId: String = "", round: UInt64 = 0, epoch: Double = 0, training: Bool = false,
                    partnerId: String = "", testAccuracy: Double = 0, evaluatedRound: UInt64 = 0, megabytesSent: Double = 0,
                    exchanges: UInt64 = 0, missedExchanges: UInt64 = 0, linkPeers: [String] = [], linkMbps: [Double] = []) {
            self.nodeId = nodeId
            self.runId = runId
            self.round = round
            self.epoch = epoch
            self.training = training
            self.partnerId = partnerId
            self.testAccuracy = testAccuracy
            self.evaluatedRound = evaluatedRound
            self.megabytesSent = megabytesSent
            self.exchanges = exchanges
            self.missedExchanges = missedExchanges
            self.linkPeers = linkPeers
            self.linkMbps = linkMbps
        }
    }
}
