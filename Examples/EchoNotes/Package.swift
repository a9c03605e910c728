// swift-tools-version:6.1

import PackageDescription

// An example of a service built on Bastion: its own .proto with STRIDE policies, Swift generated
// at build time by BastionProtobufPlugin, served and called in one executable.
let package = Package(
    name: "EchoNotes",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Bastion", path: "../.."),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        .executableTarget(
            name: "EchoNotes",
            dependencies: [
                .product(name: "BastionRPC", package: "Bastion"),
                .product(name: "BastionProtobuf", package: "Bastion"),
                .product(name: "BastionTransport", package: "Bastion"),
                .product(name: "BastionTLS", package: "Bastion"),
                .product(name: "BastionPolicy", package: "Bastion"),
                .product(name: "BastionStore", package: "Bastion"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            exclude: ["bastion-protobuf.json"],
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BastionProtobufPlugin", package: "Bastion")]
        )
    ]
)
