extension ServerContext {
    /// Lets the call through when the caller's certificate identity satisfies `allowed`.
    /// Without a certificate: UNAUTHENTICATED; with the wrong one: PERMISSION_DENIED, naming
    /// `action` and the identity. A server that does not verify clients (explicit insecure
    /// mode) trusts everyone.
    public func authorize(_ action: String, _ allowed: (PeerIdentity) -> Bool) throws {
        guard verifiesClients else { return }
        guard let identity = peerIdentity else {
            throw RPCError(.unauthenticated, "\(action) needs a client certificate from the cluster CA")
        }
        guard allowed(identity) else {
            throw RPCError(.permissionDenied, "\(identity) may not \(action)")
        }
    }

    /// The caller must be the node `id` (or, when `orAdmin`, an admin).
    public func authorize(_ action: String, asNode id: String, orAdmin: Bool = false) throws {
        try authorize(action) { $0 == .node(id) || (orAdmin && $0.role == .admin) }
    }
}
