internal import CProtos

// Field-by-field mapping between the GossipV1 value types and protoc-c's structs.

extension GossipV1.TensorShape: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Gossip__V1__TensorShape>) {
        gossip__v1__tensor_shape__init(c)
    }

    init(c: Gossip__V1__TensorShape) throws {
        self.init(name: try decodeString(c.name), dims: decodeArray(c.dims, count: c.n_dims))
    }

    func fill(_ c: UnsafeMutablePointer<Gossip__V1__TensorShape>, in arena: CArena) {
        c.pointee.name = arena.string(name)
        arena.setRepeated(dims, count: c.field(\.n_dims), elements: c.field(\.dims))
    }
}

extension GossipV1.SparseModel: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Gossip__V1__SparseModel>) {
        gossip__v1__sparse_model__init(c)
    }

    init(c: Gossip__V1__SparseModel) throws {
        self.init(
            round: c.round,
            senderId: try decodeString(c.sender_id),
            maskSeed: c.mask_seed,
            totalLength: c.total_length,
            values: decodeArray(c.values, count: c.n_values),
            shapes: try GossipV1.TensorShape.decodeAll(c.shapes, count: c.n_shapes)
        )
    }

    func fill(_ c: UnsafeMutablePointer<Gossip__V1__SparseModel>, in arena: CArena) {
        c.pointee.round = round
        c.pointee.sender_id = arena.string(senderId)
        c.pointee.mask_seed = maskSeed
        c.pointee.total_length = totalLength
        arena.setRepeated(values, count: c.field(\.n_values), elements: c.field(\.values))
        (c.pointee.n_shapes, c.pointee.shapes) = arena.messages(shapes)
    }
}

extension GossipV1.ExchangeAck: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Gossip__V1__ExchangeAck>) {
        gossip__v1__exchange_ack__init(c)
    }

    init(c: Gossip__V1__ExchangeAck) throws {
        self.init(round: c.round, receiverId: try decodeString(c.receiver_id))
    }

    func fill(_ c: UnsafeMutablePointer<Gossip__V1__ExchangeAck>, in arena: CArena) {
        c.pointee.round = round
        c.pointee.receiver_id = arena.string(receiverId)
    }
}

extension GossipV1.BandwidthProbe: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Gossip__V1__BandwidthProbe>) {
        gossip__v1__bandwidth_probe__init(c)
    }

    init(c: Gossip__V1__BandwidthProbe) throws {
        self.init(senderId: try decodeString(c.sender_id), padding: decodeBytes(c.padding))
    }

    func fill(_ c: UnsafeMutablePointer<Gossip__V1__BandwidthProbe>, in arena: CArena) {
        c.pointee.sender_id = arena.string(senderId)
        arena.setBytes(padding, c.field(\.padding))
    }
}

extension GossipV1.BandwidthReport: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Gossip__V1__BandwidthReport>) {
        gossip__v1__bandwidth_report__init(c)
    }

    init(c: Gossip__V1__BandwidthReport) throws {
        self.init(
            reporterId: try decodeString(c.reporter_id),
            mbpsToPeer: try Self.decodeMbpsToPeer(c.mbps_to_peer, count: c.n_mbps_to_peer)
        )
    }

    func fill(_ c: UnsafeMutablePointer<Gossip__V1__BandwidthReport>, in arena: CArena) {
        c.pointee.reporter_id = arena.string(reporterId)
        (c.pointee.n_mbps_to_peer, c.pointee.mbps_to_peer) = arena.messages(Self.mbpsToPeerEntries(mbpsToPeer))
    }
}

extension GossipV1.BandwidthReport {
    /// One `mbps_to_peer` entry: to protobuf-c a map is a repeated entry message.
    struct MbpsToPeerEntry: ProtobufCBacked {
        var key: String
        var value: Double

        static func cInit(_ c: UnsafeMutablePointer<Gossip__V1__BandwidthReport__MbpsToPeerEntry>) {
            gossip__v1__bandwidth_report__mbps_to_peer_entry__init(c)
        }

        init(key: String, value: Double) {
            self.key = key
            self.value = value
        }

        init(c: Gossip__V1__BandwidthReport__MbpsToPeerEntry) throws {
            self.init(key: try decodeString(c.key), value: c.value)
        }

        func fill(_ c: UnsafeMutablePointer<Gossip__V1__BandwidthReport__MbpsToPeerEntry>, in arena: CArena) {
            c.pointee.key = arena.string(key)
            c.pointee.value = value
        }
    }

    /// Entries sorted by key (UTF-8 bytes) so the encoding is deterministic.
    static func mbpsToPeerEntries(_ map: [String: Double]) -> [MbpsToPeerEntry] {
        map.map { MbpsToPeerEntry(key: $0.key, value: $0.value) }
            .sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
    }

    /// A key repeated on the wire keeps its last value, as in other runtimes.
    static func decodeMbpsToPeer(
        _ c: UnsafePointer<UnsafeMutablePointer<Gossip__V1__BandwidthReport__MbpsToPeerEntry>?>?, count: Int
    ) throws -> [String: Double] {
        let entries = try MbpsToPeerEntry.decodeAll(c, count: count)
        return Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
    }
}

extension GossipV1.ReportAck: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Gossip__V1__ReportAck>) { gossip__v1__report_ack__init(c) }

    init(c: Gossip__V1__ReportAck) {}

    func fill(_ c: UnsafeMutablePointer<Gossip__V1__ReportAck>, in arena: CArena) {}
}
