/// Who is at the other end of a mutually authenticated connection: the role and
/// name bound into its certificate by the cluster CA (`gossipfl certs`), as a
/// subjectAltName URI `gossipfl:ROLE/NAME`. Nodes are named by their node ID.
public struct PeerIdentity: Sendable, Hashable, CustomStringConvertible {
    public enum Role: String, Sendable, CaseIterable {
        /// A training peer / Raft member; `name` is its node ID.
        case node
        /// An operator: may change membership and propose.
        case admin
        /// The discovery gateway.
        case gateway
    }

    public var role: Role
    public var name: String

    public static let uriScheme = "gossipfl:"

    public init(role: Role, name: String) {
        self.role = role
        self.name = name
    }

    public static func node(_ id: String) -> PeerIdentity { PeerIdentity(role: .node, name: id) }

    /// Parses `gossipfl:ROLE/NAME`; nil for anything else (an unknown role, an empty name).
    public init?(uri: String) {
        guard uri.hasPrefix(Self.uriScheme) else { return nil }
        let rest = uri.dropFirst(Self.uriScheme.count)
        guard let slash = rest.firstIndex(of: "/"), let role = Role(rawValue: String(rest[..<slash])) else { return nil }
        let name = String(rest[rest.index(after: slash)...])
        guard !name.isEmpty, !name.contains("/") else { return nil }
        self.init(role: role, name: name)
    }

    public var uri: String { "\(Self.uriScheme)\(role.rawValue)/\(name)" }
    public var description: String { "\(role.rawValue) \(name)" }
}
