// swift-tools-version:6.0
// libFuzzer target for Starling's decoders. A separate package on purpose: a fuzz target has no
// `main` (libFuzzer supplies it), which would break `swift build` and `swift test` of the main
// package. Build and run it with `Tests/Fuzz/run [seconds]`; see docs/fuzzing.md.
import PackageDescription

let package = Package(
    name: "StarlingFuzz",
    dependencies: [
        .package(name: "Starling", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "starling-fuzz",
            dependencies: [
                .product(name: "StarlingTrust", package: "Starling"),
                .product(name: "StarlingPeer", package: "Starling"),
                .product(name: "StarlingTasks", package: "Starling"),
                .product(name: "StarlingBlobs", package: "Starling"),
            ],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
    ],
    swiftLanguageModes: [.v6]
)
