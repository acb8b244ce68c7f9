// swift-tools-version:6.0
// Starling: a peer-to-peer cluster for AI at the edge.
// Dependency rule (docs/architecture.md): system-library shims at the bottom, pure cores
// (Wire, Crypto, Trust, and later Membership/Tasks/Learning) above them, drivers (Store,
// Runtime, Simulator) above the cores, and the `starling` executable on top.
import PackageDescription

let package = Package(
    name: "Starling",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "starling", targets: ["starling"]),
        .library(name: "StarlingTrust", targets: ["StarlingTrust"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // System libraries through pkg-config.
        .systemLibrary(
            name: "CSodium", pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"]), .brew(["libsodium"])]),

        // Pure cores: no sockets, no clock, no global randomness, no SQLite, no Dispatch.
        .target(name: "StarlingWire"),
        .target(name: "StarlingCrypto", dependencies: ["CSodium"]),
        .target(name: "StarlingTrust", dependencies: ["StarlingCrypto", "StarlingWire"]),

        // Drivers.
        .target(
            name: "StarlingStore",
            dependencies: [
                "StarlingTrust",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]),

        // The CLI: the only place where real adapters are wired together.
        .executableTarget(
            name: "starling",
            dependencies: [
                "StarlingTrust", "StarlingStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        .testTarget(name: "StarlingWireTests", dependencies: ["StarlingWire"]),
        .testTarget(name: "StarlingCryptoTests", dependencies: ["StarlingCrypto"]),
        .testTarget(name: "StarlingTrustTests", dependencies: ["StarlingTrust"]),
        .testTarget(
            name: "StarlingStoreTests",
            dependencies: ["StarlingStore", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "StarlingCLITests", dependencies: ["starling"]),
        .testTarget(name: "ArchitectureTests"),
    ],
    swiftLanguageModes: [.v6]
)
