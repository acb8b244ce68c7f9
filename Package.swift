// swift-tools-version:6.0
// Starling: a peer-to-peer cluster for AI at the edge.
// Dependency rule (docs/architecture.md): system-library shims at the bottom, pure cores
// (Wire, Crypto, Trust, Membership, Learning, Tasks, Peer) above them, drivers (Store,
// Runtime, Simulator) above the cores, and the `starling` executable on top. A new edge must
// be allowed in Tests/ArchitectureTests/AllowedDependencies.swift too.
import PackageDescription

let package = Package(
    name: "Starling",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "starling", targets: ["starling"]),
        .library(name: "StarlingTrust", targets: ["StarlingTrust"]),
        .library(name: "StarlingPeer", targets: ["StarlingPeer"]),
        .library(name: "StarlingTasks", targets: ["StarlingTasks"]),
        .library(name: "StarlingBlobs", targets: ["StarlingBlobs"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // System libraries through pkg-config.
        .systemLibrary(
            name: "CSodium", pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"]), .brew(["libsodium"])]),
        .systemLibrary(
            name: "CLibUV", pkgConfig: "libuv",
            providers: [.apt(["libuv1-dev"]), .brew(["libuv"])]),
        .systemLibrary(
            name: "CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),
        // prctl for `starling exec-worker` (Swift cannot call C variadics) and mallopt for the runtime.
        .systemLibrary(name: "CProcess"),
        // madvise(MADV_HUGEPAGE) for model-sized float buffers (StarlingLearning's VectorMath).
        .systemLibrary(name: "CMemory"),

        // Pure cores: no sockets, no clock, no global randomness, no SQLite, no Dispatch.
        .target(name: "StarlingWire"),
        .target(name: "StarlingCrypto", dependencies: ["CSodium"]),
        .target(name: "StarlingTrust", dependencies: ["StarlingCrypto", "StarlingWire"]),
        // Blobs (docs/runtime.md, "Blobs"): manifests, limits, sealed chunk messages, the fetch plan.
        .target(name: "StarlingBlobs", dependencies: ["StarlingWire", "StarlingCrypto"]),
        .target(
            name: "StarlingMembership",
            dependencies: [
                "StarlingTrust", "StarlingCrypto", "StarlingWire",
                .product(name: "RealModule", package: "swift-numerics"),
            ]),
        .target(name: "StarlingPeer", dependencies: ["StarlingMembership", "StarlingTrust", "StarlingTasks"]),
        // Tasks (docs/tasks.md): specs (typed model, defaults, validation, canonical encoding) and the
        // replicated task state (signed entries, merge rules, lines of rounds, coordinator election).
        .target(
            name: "StarlingTasks",
            dependencies: [
                "StarlingWire", "StarlingTrust", "StarlingCrypto", "StarlingLearning",
                .product(name: "RealModule", package: "swift-numerics"),
            ]),
        // Learning (docs/learning.md): tensors, safetensors, aggregation (Flower's strategies), the
        // built-in trainers, data set files (CSV, npz) and the embedded digits data; zlib for gzip/deflate.
        .target(
            name: "StarlingLearning",
            dependencies: [
                "StarlingCrypto", "CZlib", "CMemory",
                .product(name: "RealModule", package: "swift-numerics"),
            ]),

        // The local API's messages (Codable) and its blocking client, shared by the CLI, the
        // runtime and the worker Lib (docs/runtime.md, "Local API").
        .target(name: "StarlingLocalAPI"),
        // The Open Inference Protocol v2 messages (KServe / Triton REST) as Codable values, with their limits.
        .target(name: "StarlingInferenceAPI"),
        // The Open Inference Protocol v2 HTTP endpoint on SwiftNIO threads (docs/runtime.md, "HTTP endpoint"):
        // routes, limits and Triton's binary tensor data, handing calls to a backend the peer provides; and
        // the CLI's blocking HTTP client (no FoundationNetworking, which loads libcurl into every peer).
        .target(
            name: "StarlingHTTP",
            dependencies: [
                "StarlingInferenceAPI",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]),

        // Drivers.
        .target(
            name: "StarlingStore",
            dependencies: [
                "StarlingTrust",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]),

        .target(
            name: "StarlingRuntime",
            dependencies: [
                "StarlingPeer", "StarlingStore", "StarlingTasks", "StarlingLearning", "StarlingBlobs", "StarlingLocalAPI", "CLibUV",
                "CProcess",
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The Swift Lib for training workers (docs/workers.md) and the built-in workers.
        .target(name: "StarlingWorker", dependencies: ["StarlingLocalAPI", "StarlingLearning", "StarlingTasks"]),
        .target(
            name: "StarlingSimulator",
            dependencies: [
                "StarlingPeer", "StarlingTasks", "StarlingTaskYAML",
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "Yams", package: "Yams"),
            ]),

        .target(
            name: "StarlingTaskYAML",
            dependencies: ["StarlingTasks", .product(name: "Yams", package: "Yams")]),

        // The CLI: the only place where real adapters are wired together.
        .executableTarget(
            name: "starling",
            dependencies: [
                "StarlingTrust", "StarlingStore", "StarlingRuntime", "StarlingSimulator", "StarlingTaskYAML",
                "StarlingWorker", "StarlingLearning", "StarlingLocalAPI", "StarlingHTTP", "StarlingInferenceAPI", "CProcess",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // Benchmarks: `swift run -c release starling-bench-crypto` (docs/benchmarks.md).
        // `starling-bench aggregate|digits`: aggregation throughput and digits accuracy (Benchmarks/learning/run).
        .executableTarget(name: "starling-bench", dependencies: ["StarlingLearning", "StarlingTasks"], path: "Sources/StarlingBench"),
        .executableTarget(name: "starling-bench-crypto", dependencies: ["StarlingCrypto", "CSodium"], path: "Benchmarks/CryptoBench"),
        // `swift run -c release starling-bench-blobs [MB]`: loopback blob import and fetch.
        .executableTarget(
            name: "starling-bench-blobs",
            dependencies: ["StarlingRuntime", "StarlingPeer", "StarlingCrypto", "StarlingMembership", "StarlingTrust"],
            path: "Benchmarks/BlobBench"),

        // Helpers shared by the test targets.
        .target(name: "StarlingTestSupport", path: "Tests/StarlingTestSupport"),
        .testTarget(name: "StarlingWireTests", dependencies: ["StarlingWire", "StarlingTestSupport"]),
        .testTarget(name: "StarlingCryptoTests", dependencies: ["StarlingCrypto"]),
        .testTarget(name: "StarlingBlobsTests", dependencies: ["StarlingBlobs", "StarlingCrypto", "StarlingWire"]),
        .testTarget(name: "StarlingTrustTests", dependencies: ["StarlingTrust", "StarlingTestSupport"]),
        .testTarget(
            name: "StarlingStoreTests",
            dependencies: ["StarlingStore", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "StarlingCLITests", dependencies: ["starling", "StarlingTestSupport", "StarlingLearning", "StarlingLocalAPI",
                                                             "StarlingWorker"],
                    // inference_client.py, run by LoopbackInferenceTests with the test venv's tritonclient.
                    exclude: ["Python"]),
        .testTarget(name: "StarlingMembershipTests", dependencies: ["StarlingMembership", "StarlingPeer"]),
        .testTarget(name: "StarlingRuntimeTests", dependencies: ["StarlingRuntime", "StarlingLocalAPI", "StarlingTestSupport"]),
        .testTarget(name: "StarlingLocalAPITests", dependencies: ["StarlingLocalAPI"]),
        .testTarget(name: "StarlingInferenceAPITests", dependencies: ["StarlingInferenceAPI"]),
        .testTarget(name: "StarlingWorkerTests", dependencies: ["StarlingWorker", "StarlingLocalAPI", "StarlingLearning"]),
        .testTarget(
            name: "StarlingHTTPTests",
            dependencies: [
                "StarlingHTTP", "StarlingInferenceAPI", "StarlingTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            // tritonclient_check.py, run by TritonClientTests when a venv has tritonclient[http].
            exclude: ["Python"]),
        .testTarget(name: "StarlingSimulatorTests", dependencies: ["StarlingSimulator", "StarlingTaskYAML"]),
        .testTarget(
            name: "StarlingTaskSpecTests",
            dependencies: ["StarlingTasks", "StarlingTaskYAML", "StarlingLearning", "StarlingWire", "StarlingTestSupport"],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "StarlingTaskStateTests",
            dependencies: ["StarlingTasks", "StarlingMembership", "StarlingCrypto", "StarlingTrust", "StarlingWire", "StarlingTestSupport"]),
        .testTarget(name: "StarlingPeerTests", dependencies: ["StarlingPeer", "StarlingTasks", "StarlingMembership", "StarlingTrust", "StarlingCrypto", "StarlingWire"]),
        .testTarget(name: "StarlingLearningTests", dependencies: ["StarlingLearning", "StarlingTasks"]),
        .testTarget(name: "ArchitectureTests"),
    ],
    swiftLanguageModes: [.v6]
)
