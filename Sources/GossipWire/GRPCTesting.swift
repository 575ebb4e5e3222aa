/// gRPC's interop-test messages (grpc_testing/empty.proto, messages.proto).
public enum GRPCTesting {}

extension GRPCTesting {
    /// `grpc.testing.Empty`
    public struct Empty: WireMessage {
        public init() {}
    }

    /// `grpc.testing.PayloadType`: open, so unknown values round-trip.
    public struct PayloadType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        public static let compressable = Self(rawValue: 0)

        public var description: String {
            switch self {
            case .compressable: "COMPRESSABLE"
            default: "PayloadType(\(rawValue))"
            }
        }
    }

    /// `grpc.testing.GrpclbRouteType`: open, so unknown values round-trip.
    public struct GrpclbRouteType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        public static let unknown = Self(rawValue: 0)
        public static let fallback = Self(rawValue: 1)
        public static let backend = Self(rawValue: 2)

        public var description: String {
            switch self {
            case .unknown: "GRPCLB_ROUTE_TYPE_UNKNOWN"
            case .fallback: "GRPCLB_ROUTE_TYPE_FALLBACK"
            case .backend: "GRPCLB_ROUTE_TYPE_BACKEND"
            default: "GrpclbRouteType(\(rawValue))"
            }
        }
    }

    /// `grpc.testing.BoolValue`
    public struct BoolValue: WireMessage {
        public var value: Bool

        public init(value: Bool = false) {
            self.value = value
        }
    }

    /// `grpc.testing.Payload`
    public struct Payload: WireMessage {
        public var type: PayloadType
        public var body: WireBytes

        public init(type: PayloadType = .compressable, body: WireBytes = []) {
            self.type = type
            self.body = body
        }

        public init(type: PayloadType = .compressable, body: [UInt8]) {
            self.init(type: type, body: WireBytes(body))
        }
    }

    /// `grpc.testing.EchoStatus`
    ///
    /// Asks the server to end the call with this status.
    public struct EchoStatus: WireMessage {
        public var code: Int32
        public var message: String

        public init(code: Int32 = 0, message: String = "") {
            self.code = code
            self.message = message
        }
    }

    /// `grpc.testing.SimpleRequest`
    public struct SimpleRequest: WireMessage {
        public var responseType: PayloadType
        public var responseSize: Int32
        public var payload: Payload?
        public var fillUsername: Bool
        public var fillOauthScope: Bool
        public var responseCompressed: BoolValue?
        public var responseStatus: EchoStatus?
        public var expectCompressed: BoolValue?
        public var fillServerId: Bool
        public var fillGrpclbRouteType: Bool

        public init(
            responseType: PayloadType = .compressable,
            responseSize: Int32 = 0,
            payload: Payload? = nil,
            fillUsername: Bool = false,
            fillOauthScope: Bool = false,
            responseCompressed: BoolValue? = nil,
            responseStatus: EchoStatus? = nil,
            expectCompressed: BoolValue? = nil,
            fillServerId: Bool = false,
            fillGrpclbRouteType: Bool = false
        ) {
            self.responseType = responseType
            self.responseSize = responseSize
            self.payload = payload
            self.fillUsername = fillUsername
            self.fillOauthScope = fillOauthScope
            self.responseCompressed = responseCompressed
            self.responseStatus = responseStatus
            self.expectCompressed = expectCompressed
            self.fillServerId = fillServerId
            self.fillGrpclbRouteType = fillGrpclbRouteType
        }
    }

    /// `grpc.testing.SimpleResponse`
    public struct SimpleResponse: WireMessage {
        public var payload: Payload?
        public var username: String
        public var oauthScope: String
        public var serverId: String
        public var grpclbRouteType: GrpclbRouteType
        public var hostname: String

        public init(
            payload: Payload? = nil,
            username: String = "",
            oauthScope: String = "",
            serverId: String = "",
            grpclbRouteType: GrpclbRouteType = .unknown,
            hostname: String = ""
        ) {
            self.payload = payload
            self.username = username
            self.oauthScope = oauthScope
            self.serverId = serverId
            self.grpclbRouteType = grpclbRouteType
            self.hostname = hostname
        }
    }

    /// `grpc.testing.StreamingInputCallRequest`
    public struct StreamingInputCallRequest: WireMessage {
        public var payload: Payload?
        public var expectCompressed: BoolValue?

        public init(payload: Payload? = nil, expectCompressed: BoolValue? = nil) {
            self.payload = payload
            self.expectCompressed = expectCompressed
        }
    }

    /// `grpc.testing.StreamingInputCallResponse`
    public struct StreamingInputCallResponse: WireMessage {
        public var aggregatedPayloadSize: Int32

        public init(aggregatedPayloadSize: Int32 = 0) {
            self.aggregatedPayloadSize = aggregatedPayloadSize
        }
    }

    /// `grpc.testing.ResponseParameters`
    public struct ResponseParameters: WireMessage {
        public var size: Int32
        public var intervalUs: Int32
        public var compressed: BoolValue?

        public init(size: Int32 = 0, intervalUs: Int32 = 0, compressed: BoolValue? = nil) {
            self.size = size
            self.intervalUs = intervalUs
            self.compressed = compressed
        }
    }

    /// `grpc.testing.StreamingOutputCallRequest`
    public struct StreamingOutputCallRequest: WireMessage {
        public var responseType: PayloadType
        public var responseParameters: [ResponseParameters]
        public var payload: Payload?
        public var responseStatus: EchoStatus?

        public init(
            responseType: PayloadType = .compressable,
            responseParameters: [ResponseParameters] = [],
            payload: Payload? = nil,
            responseStatus: EchoStatus? = nil
        ) {
            self.responseType = responseType
            self.responseParameters = responseParameters
            self.payload = payload
            self.responseStatus = responseStatus
        }
    }

    /// `grpc.testing.StreamingOutputCallResponse`
    public struct StreamingOutputCallResponse: WireMessage {
        public var payload: Payload?

        public init(payload: Payload? = nil) {
            self.payload = payload
        }
    }
}
