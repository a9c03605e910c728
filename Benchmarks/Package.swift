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
    ]
)
