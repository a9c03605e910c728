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
        .executable(name: "protoc-gen-bastion", targets: ["protoc-gen-bastion"]),
        .plugin(name: "BastionProtobufPlugin", targets: ["BastionProtobufPlugin"]),
        .plugin(name: "GenerateProtobufCode", targets: ["GenerateProtobufCode"]),
    ],
    targets: [
        // MARK: Protobuf runtime (standard library only)
        .target(
            name: "BastionProtobuf",
            swiftSettings: defaultSwiftSettings
        ),
        .testTarget(
            name: "BastionProtobufTests",
            dependencies: ["BastionProtobuf"],
            swiftSettings: defaultSwiftSettings
        ),

        // MARK: Code generator: a library, a thin protoc plugin, and two SwiftPM plugins
        .target(
            name: "BastionCodeGen",
            dependencies: ["BastionProtobuf"],
            swiftSettings: defaultSwiftSettings
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
    ]
)
