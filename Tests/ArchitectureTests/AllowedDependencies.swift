/// The target graph, written in one place: each target of Package.swift and the only targets and
/// products it may depend on directly. It mirrors the "Targets" table of docs/architecture.md
/// (dependencies point downwards: shims, then the pure cores, then the drivers, then the
/// executables); change both together. `DependencyGraphTests` fails when Package.swift gives a
/// target a dependency that is not here, when a target has no entry, or when a source file imports
/// a module of the package (or a product it uses) that is not among these or what they reach.
/// Test targets are not listed: a test may depend on whatever it tests.
enum AllowedDependencies {
    static let direct: [String: Set<String>] = [
        // System libraries.
        "CSodium": [],
        "CLibUV": [],
        "CZlib": [],
        "CProcess": [],
        "CMemory": [],

        // Pure cores.
        "StarlingWire": [],
        "StarlingCrypto": ["CSodium"],
        "StarlingTrust": ["StarlingCrypto", "StarlingWire"],
        "StarlingBlobs": ["StarlingWire", "StarlingCrypto"],
        "StarlingMembership": ["StarlingTrust", "StarlingCrypto", "StarlingWire", "RealModule"],
        // Tensors and aggregation know nothing of tasks, membership or trust.
        "StarlingLearning": ["StarlingCrypto", "CZlib", "CMemory", "RealModule"],
        // Tasks take the learning vocabulary (AggregationAlgorithm, BuiltinWorker), never membership.
        "StarlingTasks": ["StarlingWire", "StarlingTrust", "StarlingCrypto", "StarlingLearning", "RealModule"],
        "StarlingPeer": ["StarlingMembership", "StarlingTrust", "StarlingTasks"],

        // Drivers.
        "StarlingStore": ["StarlingTrust", "GRDB"],
        "StarlingTaskYAML": ["StarlingTasks", "Yams"],
        // The local socket's requests, answers and blocking client: shared by the CLI, the runtime
        // and the worker Lib, and depending on no other Starling target.
        "StarlingLocalAPI": [],
        // The inference endpoint's messages (Open Inference Protocol v2): no other Starling target.
        "StarlingInferenceAPI": [],
        // The inference endpoint's HTTP server on SwiftNIO threads: the messages and NIO, nothing of the peer.
        "StarlingHTTP": ["StarlingInferenceAPI", "NIOCore", "NIOPosix", "NIOHTTP1"],
        "StarlingRuntime": [
            "StarlingPeer", "StarlingStore", "StarlingTasks", "StarlingLearning", "StarlingBlobs", "StarlingLocalAPI", "CLibUV",
            "CProcess", "Logging",
        ],
        // The worker Lib never links the runtime (libuv, GRDB, the peer).
        "StarlingWorker": ["StarlingLocalAPI", "StarlingLearning", "StarlingTasks"],
        "StarlingSimulator": ["StarlingPeer", "StarlingTasks", "StarlingTaskYAML", "HeapModule", "Yams"],

        // Executables.
        "starling": [
            "StarlingTrust", "StarlingStore", "StarlingRuntime", "StarlingSimulator", "StarlingTaskYAML", "StarlingWorker",
            "StarlingLearning", "StarlingLocalAPI", "StarlingHTTP", "StarlingInferenceAPI", "CProcess", "Logging", "ArgumentParser",
        ],
        "starling-bench": ["StarlingLearning", "StarlingTasks"],
        "starling-bench-crypto": ["StarlingCrypto", "CSodium"],
        "starling-bench-blobs": ["StarlingRuntime", "StarlingPeer", "StarlingCrypto", "StarlingMembership", "StarlingTrust"],

        // Helpers for the test targets.
        "StarlingTestSupport": [],
    ]
}
