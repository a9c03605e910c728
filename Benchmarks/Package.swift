// swift-tools-version:6.1

import PackageDescription

// Benchmarks live in their own package so the main package's dependency graph stays lean
// (as in swift-nio and swift-certificates). Run from the repository root:
//
//     swift run -c release --package-path Benchmarks CodecBench
let package = Package(
    name: "BastionBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Bastion", path: ".."),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // The RPC benchmark's peer (rpc-bench.sh): grpc-swift-2 over HTTP/2 with TLS.
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        // Protos/bench.proto rendered by protoc-gen-bastion and by protoc-gen-swift 1.39.0. Both
        // declare `Bastion_Bench_V1_…`, so each lives in its own module. Regenerate with
        // generate-peers.sh; the SwiftProtobuf plugin is never built here.
        .target(
            name: "BastionPeers",
            dependencies: [.product(name: "BastionProtobuf", package: "Bastion")]
        ),
        .target(
            name: "SwiftProtobufPeers",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        // The plain content both sides (and cpp/codec_bench.cc) encode.
        .target(name: "BenchData"),
        // The policy engine's cost per call (issue 5), against the same call without a policy.
        .executableTarget(
            name: "PolicyBench",
            dependencies: [
                .product(name: "BastionPolicy", package: "Bastion"),
                .product(name: "BastionRPC", package: "Bastion"),
                .product(name: "BastionStore", package: "Bastion"),
                .product(name: "BastionProtobuf", package: "Bastion"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "CodecBench",
            dependencies: [
                "BastionPeers",
                "SwiftProtobufPeers",
                "BenchData",
                .product(name: "BastionProtobuf", package: "Bastion"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // BastionStore's typed tables against the same loops in C over liblmdb (c/store_bench.c).
        .executableTarget(
            name: "StoreBench",
            dependencies: [
                .product(name: "BastionStore", package: "Bastion"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),

        // RPC (rpc-bench.sh): Bastion's echo server without interceptors, and grpc-swift-2's echo
        // server and load generator. Protos/grpc/echo.proto is rendered once by protoc-gen-swift
        // and protoc-gen-grpc-swift-2 into GRPCPeerEcho (generate-grpc-peer.sh).
        .executableTarget(
            name: "BastionEchoServer",
            dependencies: [
                .product(name: "BastionBuiltinServices", package: "Bastion"),
                .product(name: "BastionRPC", package: "Bastion"),
                .product(name: "BastionTLS", package: "Bastion"),
                .product(name: "BastionTransport", package: "Bastion"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // A fixed number of calls in one process, for instructions per call (rpc-instructions.sh).
        .executableTarget(
            name: "RPCProfile",
            dependencies: [
                .product(name: "BastionBuiltinServices", package: "Bastion"),
                .product(name: "BastionRPC", package: "Bastion"),
                .product(name: "BastionTLS", package: "Bastion"),
                .product(name: "BastionTransport", package: "Bastion"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .target(
            name: "GRPCPeerEcho",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .executableTarget(
            name: "GRPCPeer",
            dependencies: [
                "GRPCPeerEcho",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
