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

// Fuzz targets, one executable per parser of untrusted input. Each exports
// `LLVMFuzzerTestOneInput` and has no `main` of its own: libFuzzer supplies it when the package is
// built with `-sanitize=fuzzer,address` (see fuzz.sh). A separate package, so the sanitizer flags
// never reach the root package's build and its users never resolve this one.
let package = Package(
    name: "BastionFuzzTesting",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Bastion", path: "..")
    ],
    targets: [
        .executableTarget(
            name: "FuzzProtobufDecode",
            dependencies: [
                .product(name: "BastionProtobuf", package: "Bastion")
            ],
            swiftSettings: defaultSwiftSettings,
            plugins: [
                .plugin(name: "BastionProtobufPlugin", package: "Bastion")
            ]
        ),
        .executableTarget(
            name: "FuzzOPAQUEMessages",
            dependencies: [
                .product(name: "BastionCrypto", package: "Bastion")
            ],
            swiftSettings: defaultSwiftSettings
        ),
        .executableTarget(
            name: "FuzzSecondFactorInput",
            dependencies: [
                .product(name: "BastionIdentity", package: "Bastion")
            ],
            swiftSettings: defaultSwiftSettings
        ),
    ]
)
