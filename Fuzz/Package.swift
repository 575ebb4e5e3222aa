// swift-tools-version:6.0
// libFuzzer targets for GossipFL. A separate package so the root Package.swift
// stays untouched; it depends on the root package by path. Build and run with
// `make fuzz` / `make fuzz-smoke` from the repository root (see Fuzz/run.sh).
import Foundation
import PackageDescription

// A path dependency's identity is its directory's name, whatever the checkout is called.
let rootIdentity = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().lastPathComponent.lowercased()

let root: [Target.Dependency] = [
    "FuzzDriver",
    .product(name: "GossipWire", package: rootIdentity),
]
let rpc: [Target.Dependency] = [
    "FuzzDriver",
    .product(name: "GossipRPC", package: rootIdentity),
    .product(name: "GossipWire", package: rootIdentity),
]

let package = Package(
    name: "GossipFLFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: "..")],
    targets: [
        // libFuzzer's driver, called from each target's main.
        .target(name: "FuzzDriver"),
        // Every protobuf message type: decode, re-encode, decode again.
        .executableTarget(name: "FuzzWire", dependencies: root),
        // MessageDeframer.feed with chunking taken from the input.
        .executableTarget(name: "FuzzDeframer", dependencies: rpc),
        // An in-process Server fed raw bytes over loopback TCP after the HTTP/2 preface.
        .executableTarget(name: "FuzzServer", dependencies: rpc),
    ]
)
