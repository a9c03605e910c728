// swift-tools-version:6.1

import PackageDescription

/// One settings list for every Swift target: Swift 6 mode plus the upcoming features the
/// style guide asks for (explicit `any`, imports visible only where declared, internal imports).
let defaultSwiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Bastion",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "BastionProtobuf", targets: ["BastionProtobuf"]),
        .library(name: "BastionCodeGen", targets: ["BastionCodeGen"]),
        .library(name: "BastionRPC", targets: ["BastionRPC"]),
        .library(name: "BastionTransport", targets: ["BastionTransport"]),
        .executable(name: "protoc-gen-bastion", targets: ["protoc-gen-bastion"]),
        .plugin(name: "BastionProtobufPlugin", targets: ["BastionProtobufPlugin"]),
        .plugin(name: "GenerateProtobufCode", targets: ["GenerateProtobufCode"]),
        .library(name: "BastionStore", targets: ["BastionStore"]),
        .library(name: "BastionPolicy", targets: ["BastionPolicy"]),
        .library(name: "BastionTLS", targets: ["BastionTLS"]),
        .library(name: "BastionMetrics", targets: ["BastionMetrics"]),
        .library(name: "BastionAdmin", targets: ["BastionAdmin"]),
        .library(name: "BastionCrypto", targets: ["BastionCrypto"]),
        .library(name: "BastionIdentity", targets: ["BastionIdentity"]),
        .library(name: "BastionBuiltinServices", targets: ["BastionBuiltinServices"]),
        .library(name: "BastionQueue", targets: ["BastionQueue"]),
        .executable(name: "bastion", targets: ["BastionCLI"]),
        .executable(name: "bastiond", targets: ["BastionDaemon"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        // MARK: Protobuf runtime (standard library only)
        .target(
            name: "BastionProtobuf",
            swiftSettings: defaultSwiftSettings
        ),
        // What several test targets share: running a program without blocking the pool.
        .target(name: "BastionTestSupport", path: "Tests/BastionTestSupport", swiftSettings: defaultSwiftSettings),
        .testTarget(
            name: "BastionProtobufTests",
            dependencies: ["BastionProtobuf"],
            swiftSettings: defaultSwiftSettings
        ),

        // MARK: RPC core: protocol messages, framing rules, status (no NIO, no TLS)
        .target(
            name: "BastionRPC",
            dependencies: ["BastionProtobuf"],
            exclude: ["Generated/README.md"],
            swiftSettings: defaultSwiftSettings
        ),
        .testTarget(
            name: "BastionRPCTests",
            dependencies: ["BastionRPC", "BastionProtobuf"],
            swiftSettings: defaultSwiftSettings
        ),

        // MARK: Transport: the wire protocol on SwiftNIO, over BastionTLS
        .target(
            name: "BastionTransport",
            dependencies: [
                "BastionRPC",
                "BastionProtobuf",
                "BastionTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: defaultSwiftSettings
        ),
        .testTarget(
            name: "BastionTransportTests",
            dependencies: [
                "BastionTestSupport",
                "BastionCrypto",
                "BastionIdentity",
                "BastionTransport",
                "BastionPolicy",
                "BastionStore",
                "BastionBuiltinServices",
                "BastionDaemon",
                "BastionCLI",
                "BastionRPC",
                "BastionTLS",
                "COpenSSL",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: defaultSwiftSettings
        ),

        // MARK: Built-in services: health and echo
        .target(
            name: "BastionBuiltinServices",
            dependencies: ["BastionRPC", "BastionProtobuf"],
            exclude: ["Generated/README.md"],
            swiftSettings: defaultSwiftSettings
        ),

        // MARK: Policy engine: enforces each method's STRIDE policy before its handler
        .target(
            name: "BastionPolicy",
            dependencies: [
                "BastionRPC",
                "BastionStore",
                "COpenSSL",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: defaultSwiftSettings
        ),
        .testTarget(
            name: "BastionPolicyTests",
            dependencies: [
                "BastionPolicy",
                "BastionRPC",
                "BastionStore",
                "BastionProtobuf",
                "COpenSSL",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: defaultSwiftSettings
        ),

        // MARK: Metrics: calls, latencies and denials through swift-metrics; a /metrics endpoint
        .target(
            name: "BastionMetrics",
            dependencies: [
                "BastionRPC",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: defaultSwiftSettings
        ),

        // MARK: Admin service: operators list, switch and tune methods, verify the audit log, back up
        .target(
            name: "BastionAdmin",
            dependencies: [
                "BastionRPC",
                "BastionProtobuf",
                "BastionPolicy",
                "BastionStore",
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Generated/README.md"],
            swiftSettings: defaultSwiftSettings
        ),
        .testTarget(
            name: "BastionAdminTests",
            dependencies: [
                "BastionAdmin",
                "BastionMetrics",
                "BastionPolicy",
                "BastionStore",
                "BastionRPC",
                "BastionProtobuf",
                "BastionTLS",
                "BastionTransport",
                "BastionBuiltinServices",
                "BastionDaemon",
                "BastionCLI",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: defaultSwiftSettings
        ),

        // MARK: Identity: registration, login, session tokens, client certificates
        .target(
            name: "BastionIdentity",
            dependencies: [
                "BastionCrypto",
                "BastionRPC",
                "BastionStore",
                "BastionPolicy",
                "BastionProtobuf",
                "BastionTLS",
                "COpenSSL",
                "CSodium",
                "CSpawn",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: defaultSwiftSettings
        ),
        // pipe2 and posix_spawn_file_actions_addclosefrom_np for the channel commands (libc).
        .systemLibrary(name: "CSpawn"),
        .testTarget(
            name: "BastionIdentityTests",
            dependencies: [
                "BastionTestSupport",
                "BastionIdentity",
                "BastionPolicy",
                "BastionProtobuf",
                "BastionStore",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: defaultSwiftSettings
        ),

        // MARK: Queues: sealed messages for each client, anyone enqueues, the owner dequeues
        .target(
            name: "BastionQueue",
            dependencies: [
                "BastionRPC",
                "BastionStore",
                "BastionPolicy",
                "BastionProtobuf",
                "CSodium",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            exclude: ["Generated/README.md"],
            swiftSettings: defaultSwiftSettings
        ),
        .testTarget(
            name: "BastionQueueTests",
            dependencies: [
                "BastionTestSupport",
                "BastionQueue",
                "BastionIdentity",
                "BastionPolicy",
                "BastionProtobuf",
                "BastionRPC",
                "BastionStore",
                "BastionTLS",
                "BastionTransport",
                "BastionDaemon",
                "BastionCLI",
                "CSodium",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: defaultSwiftSettings
        ),

        // MARK: Code generator: a library, a thin protoc plugin, and two SwiftPM plugins
        .target(
            name: "BastionCodeGen",
            dependencies: ["BastionProtobuf", "BastionRPC"],
            exclude: ["Generated/README.md"],
            swiftSettings: defaultSwiftSettings
        ),
        .testTarget(
            name: "BastionGeneratedTests",
            dependencies: ["BastionProtobuf"],
            exclude: ["python"],
            swiftSettings: defaultSwiftSettings,
            plugins: [.plugin(name: "BastionProtobufPlugin")]
        ),
        .testTarget(
            name: "BastionCodeGenTests",
            dependencies: ["BastionCodeGen", "BastionProtobuf"],
            swiftSettings: defaultSwiftSettings
        ),
        .executableTarget(
            name: "protoc-gen-bastion",
            dependencies: ["BastionCodeGen"],
            path: "Tools/protoc-gen-bastion",
            swiftSettings: defaultSwiftSettings
        ),
        .plugin(
            name: "BastionProtobufPlugin",
            capability: .buildTool(),
            dependencies: ["protoc-gen-bastion"],
            path: "Tools/BastionProtobufPlugin"
        ),
        .plugin(
            name: "GenerateProtobufCode",
            capability: .command(
                intent: .custom(verb: "generate-protobuf-code", description: "Writes the Swift for a target's .proto files into its source folder"),
                permissions: [.writeToPackageDirectory(reason: "Writes the generated Swift files beside the .proto files")]
            ),
            dependencies: ["protoc-gen-bastion"],
            path: "Tools/GenerateProtobufCode"
        ),

        // MARK: Store: typed tables over LMDB (Debian liblmdb-dev)
        .systemLibrary(
            name: "CLMDB",
            pkgConfig: "lmdb",
            providers: [.apt(["liblmdb-dev"])]
        ),
        .target(
            name: "BastionStore",
            dependencies: [
                "CLMDB",
                "BastionProtobuf",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: defaultSwiftSettings
        ),
        .testTarget(
            name: "BastionStoreTests",
            dependencies: [
                "BastionStore",
                "StoreCrashWriter",
                "BastionCLI",
                "BastionCodeGen",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: defaultSwiftSettings
        ),
        // Writes under load and acknowledges each commit; the crash test kills it with SIGKILL.
        .executableTarget(
            name: "StoreCrashWriter",
            dependencies: [
                "BastionStore",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/StoreCrashWriter",
            swiftSettings: defaultSwiftSettings
        ),

        // MARK: TLS: a NIO channel handler over the system's OpenSSL 3 (Debian libssl-dev)
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        .target(
            name: "BastionTLS",
            dependencies: [
                "COpenSSL",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: defaultSwiftSettings
        ),
        .testTarget(
            name: "BastionTLSTests",
            dependencies: [
                "BastionTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: defaultSwiftSettings
        ),

        // MARK: Crypto: OPRF (RFC 9497) and OPAQUE (RFC 9807) over libsodium (Debian libsodium-dev)
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        .target(
            name: "BastionCrypto",
            dependencies: ["CSodium"],
            swiftSettings: defaultSwiftSettings
        ),
        .testTarget(
            name: "BastionCryptoTests",
            dependencies: ["BastionCrypto"],
            exclude: ["python"],
            swiftSettings: defaultSwiftSettings
        ),

        // MARK: Fuzzing: FuzzTesting/'s checks, run on its saved inputs without libFuzzer
        .testTarget(
            name: "BastionFuzzReplayTests",
            dependencies: [
                "BastionIdentity",
                "BastionPolicy",
                "BastionProtobuf",
                "BastionRPC",
                "BastionStore",
                "BastionTLS",
                "BastionTransport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            path: "FuzzTesting/Sources/FuzzChecks",
            swiftSettings: defaultSwiftSettings
        ),

        // MARK: Executables
        .executableTarget(
            name: "BastionCLI",
            dependencies: [
                "BastionIdentity",
                "BastionStore",
                "BastionTLS",
                "BastionRPC",
                "BastionTransport",
                "BastionBuiltinServices",
                "BastionAdmin",
                "BastionProtobuf",
                "BastionQueue",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: defaultSwiftSettings
        ),
        .executableTarget(
            name: "BastionDaemon",
            dependencies: [
                "BastionIdentity",
                "BastionStore",
                "BastionPolicy",
                "BastionTLS",
                "BastionRPC",
                "BastionTransport",
                "BastionBuiltinServices",
                "BastionAdmin",
                "BastionMetrics",
                "BastionQueue",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: defaultSwiftSettings
        ),
    ]
)
