/// The standard gRPC health-checking messages (grpc_health/v1/health.proto).
public enum GRPCHealth {}

extension GRPCHealth {
    /// `grpc.health.v1.HealthCheckRequest`
    public struct HealthCheckRequest: WireMessage {
        public var service: String

        public init(service: String = "") {
            self.service = service
        }
    }

    /// `grpc.health.v1.HealthCheckResponse`
    public struct HealthCheckResponse: WireMessage {
        public var status: ServingStatus

        public init(status: ServingStatus = .unknown) {
            self.status = status
        }

        /// `grpc.health.v1.HealthCheckResponse.ServingStatus`: open, so unknown values round-trip.
        public struct ServingStatus: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
            public var rawValue: Int32
            public init(rawValue: Int32) { self.rawValue = rawValue }

            public static let unknown = Self(rawValue: 0)
            public static let serving = Self(rawValue: 1)
            public static let notServing = Self(rawValue: 2)
            public static let serviceUnknown = Self(rawValue: 3)

            public var description: String {
                switch self {
                case .unknown: "UNKNOWN"
                case .serving: "SERVING"
                case .notServing: "NOT_SERVING"
                case .serviceUnknown: "SERVICE_UNKNOWN"
                default: "ServingStatus(\(rawValue))"
                }
            }
        }
    }
}
