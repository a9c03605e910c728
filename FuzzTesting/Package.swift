// swift-tools-version:6.1

import PackageDescription

/// The same settings as the root package's targets: Swift 6 mode plus the upcoming features the
/// style guide asks for.
let defaultSwiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

// Fuzz targets, one executable per parser of untrusted input. Each hands its check to FuzzDriver,
// which runs libFuzzer's driver (linked in by `-sanitize=fuzzer,address`, see fuzz.sh). A separate package, so the sanitizer flags
// never reach the root package's build and its users never resolve this one.
let package = Package(
    name: "BastionFuzzTesting",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Bastion", path: ".."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // The entry point every target shares.
        .target(name: "FuzzDriver", swiftSettings: defaultSwiftSettings),
        .executableTarget(
            name: "FuzzProtobufDecode",
            dependencies: [
                "FuzzDriver",
                .product(name: "BastionProtobuf", package: "Bastion"),
            ],
            swiftSettings: defaultSwiftSettings,
            plugins: [
                .plugin(name: "BastionProtobufPlugin", package: "Bastion")
            ]
        ),
        .executableTarget(
            name: "FuzzOPAQUEMessages",
            dependencies: [
                "FuzzDriver",
                .product(name: "BastionCrypto", package: "Bastion"),
            ],
            swiftSettings: defaultSwiftSettings
        ),
        .executableTarget(
            name: "FuzzQueueRequests",
            dependencies: [
                "FuzzDriver",
                .product(name: "BastionQueue", package: "Bastion"),
            ],
            swiftSettings: defaultSwiftSettings
        ),
        .executableTarget(
            name: "FuzzSecondFactorInput",
            dependencies: [
                "FuzzDriver",
                .product(name: "BastionIdentity", package: "Bastion"),
            ],
            swiftSettings: defaultSwiftSettings
        ),
        // The checks behind the targets below; the root package compiles the same folder as its
        // BastionFuzzReplayTests test target, which also holds the replay tests excluded here.
        // `@testable` imports reach the parsers' internals: fuzz.sh passes `-enable-testing`.
        .target(
            name: "FuzzChecks",
            dependencies: [
                .product(name: "BastionIdentity", package: "Bastion"),
                .product(name: "BastionPolicy", package: "Bastion"),
                .product(name: "BastionProtobuf", package: "Bastion"),
                .product(name: "BastionRPC", package: "Bastion"),
                .product(name: "BastionStore", package: "Bastion"),
                .product(name: "BastionTLS", package: "Bastion"),
                .product(name: "BastionTransport", package: "Bastion"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            exclude: ["FailCasesReplayTests.swift"],
            swiftSettings: defaultSwiftSettings
        ),
        .executableTarget(name: "FuzzFrames", dependencies: ["FuzzDriver", "FuzzChecks"], swiftSettings: defaultSwiftSettings),
        .executableTarget(name: "FuzzSessionTokens", dependencies: ["FuzzDriver", "FuzzChecks"], swiftSettings: defaultSwiftSettings),
        .executableTarget(name: "FuzzSigningRequests", dependencies: ["FuzzDriver", "FuzzChecks"], swiftSettings: defaultSwiftSettings),
        .executableTarget(name: "FuzzPolicyInputs", dependencies: ["FuzzDriver", "FuzzChecks"], swiftSettings: defaultSwiftSettings),
        .executableTarget(
            name: "FuzzWebAuthn",
            dependencies: [
                "FuzzDriver",
                .product(name: "BastionIdentity", package: "Bastion"),
            ],
            swiftSettings: defaultSwiftSettings
        ),
    ]
)
