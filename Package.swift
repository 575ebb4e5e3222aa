// swift-tools-version:6.0
import PackageDescription

/// The numeric cores are optimised in debug builds too: their inner loops are most of a training
/// run, and the tests train real models (`make test` builds debug).
let optimizedAlways: [SwiftSetting] = [.unsafeFlags(["-O"])]

let package = Package(
    name: "GossipFL",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "gossipfl", targets: ["gossipfl"]),
        .executable(name: "gossipfl-interop", targets: ["gossipfl-interop"]),
        .library(name: "GossipRPC", targets: ["GossipRPC"]),
        .library(name: "GossipWire", targets: ["GossipWire"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // Layer 1: C libraries.
        .systemLibrary(name: "CNGHTTP2", pkgConfig: "libnghttp2", providers: [.apt(["libnghttp2-dev"])]),
        .systemLibrary(name: "CEvent", pkgConfig: "libevent_openssl", providers: [.apt(["libevent-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CProtobufC", pkgConfig: "libprotobuf-c", providers: [.apt(["libprotobuf-c-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        // protoc-c output for Protos/*.proto (regenerate with `make protos`).
        .target(name: "CProtos", dependencies: ["CProtobufC"]),

        // Layer 2: Swift value types for every message, through protobuf-c.
        .target(name: "GossipWire", dependencies: ["CProtos"]),

        // Layer 3: the gRPC runtime (event loop, HTTP/2, server, client).
        .target(
            name: "GossipRPC",
            dependencies: [
                "GossipWire", "CNGHTTP2", "CEvent", "COpenSSL",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Crash-safe file writes shared by the gateway, the discovery cache and storage.
        .target(name: "Durable"),
        // Gateway registry: a pure core (no sockets, clocks or files).
        .target(name: "Discovery"),
        // The gateway service (gateway.v1 and the Python-compat GatewayService), persistence.
        .target(
            name: "Gateway",
            dependencies: ["Discovery", "Durable", "GossipRPC", "GossipWire", .product(name: "Logging", package: "swift-log")]
        ),
        // Node side: register, heartbeat, report, cache what the gateway said.
        .target(
            name: "DiscoveryClient",
            dependencies: ["Durable", "GossipRPC", "GossipWire", .product(name: "Logging", package: "swift-log")]
        ),

        // Seeded randomness shared by the deterministic cores.
        .target(name: "Seeded"),
        // Learning: data sets (IDX), partitioning among workers; pure, seeded.
        .target(name: "Learning", dependencies: ["CZlib", "CBLAS", "Seeded", "Durable"], swiftSettings: optimizedAlways),
        // Gossip: SAPS peer selection, shared random-k masks, the exchange rules; pure, seeded.
        .target(name: "Gossip", dependencies: ["Seeded"], swiftSettings: optimizedAlways),
        // Training: workers, the exchange algorithms, and the one-process simulation over simulated links.
        .target(name: "Training", dependencies: ["Learning", "Gossip", "CBLAS", "Seeded"], swiftSettings: optimizedAlways),
        // The networked training peer: gossip.v1 at the edge of the training cores.
        .target(name: "TrainingNode", dependencies: [
            "Training", "Learning", "Gossip", "GossipWire", "GossipRPC", "Durable", "RaftNode", "Consensus",
            .product(name: "Logging", package: "swift-log"),
        ]),

        // Raft: a deterministic core (no clocks, threads, sockets or files) and its crash-safe storage.
        .target(name: "Consensus", dependencies: ["Seeded"]),
        .target(name: "RaftStorage", dependencies: ["Consensus", "Durable"]),
        // The Raft driver: ticks, persistence, gRPC transport, raft.v1 Raft and Cluster services.
        .target(
            name: "RaftNode",
            dependencies: ["Consensus", "RaftStorage", "Discovery", "GossipRPC", "GossipWire", .product(name: "Logging", package: "swift-log")]
        ),

        // grpc.testing interop service and client test cases.
        .target(name: "InteropKit", dependencies: ["GossipRPC", "GossipWire"]),

        .executableTarget(
            name: "gossipfl-interop",
            dependencies: [
                "InteropKit", "GossipRPC",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "gossipfl",
            dependencies: [
                "GossipRPC", "GossipWire", "InteropKit", "Discovery", "Gateway", "DiscoveryClient", "RaftNode", "Consensus", "Durable", "Learning", "Gossip", "Training", "TrainingNode",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        .testTarget(name: "GossipWireTests", dependencies: ["GossipWire"], resources: [.copy("Golden")]),
        .testTarget(name: "GossipRPCTests", dependencies: ["GossipRPC", "GossipWire", "InteropKit"]),
        .testTarget(name: "DiscoveryTests", dependencies: ["Discovery"]),
        .testTarget(name: "ConsensusTests", dependencies: ["Consensus"]),
        .testTarget(name: "LearningTests", dependencies: ["Learning", "Seeded"], exclude: ["Golden"]),
        .testTarget(name: "GossipTests", dependencies: ["Gossip", "Seeded"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Learning", "Gossip", "Seeded"]),
        .testTarget(name: "TrainingNodeTests", dependencies: ["TrainingNode", "Training", "Learning", "Gossip", "GossipWire", "GossipRPC", "RaftNode"]),
        .testTarget(name: "RaftStorageTests", dependencies: ["RaftStorage", "Consensus", "Durable"]),
        .testTarget(name: "RaftNodeTests", dependencies: ["RaftNode", "RaftStorage", "Consensus", "GossipWire", "GossipRPC"]),
        .testTarget(name: "GatewayTests", dependencies: ["Gateway", "DiscoveryClient", "Discovery", "GossipRPC", "GossipWire"]),
    ]
)
