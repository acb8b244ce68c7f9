/// A JointInferenceService's part of a `TaskReport`: the deployment every peer agrees on, and
/// what the answering peer itself serves and has answered (docs/cli.md, "task status").
public struct ServiceReport: Codable, Equatable, Sendable {
    public struct Peer: Codable, Equatable, Sendable {
        public var node: String
        public var nodeName: String?
        /// Whether the answering peer's membership holds it up.
        public var up: Bool

        public init(node: String, nodeName: String?, up: Bool) {
            self.node = node
            self.nodeName = nodeName
            self.up = up
        }
    }

    /// The current deployment's version and models (hash, and the name the spec gives).
    public var version: UInt64
    public var edgeModel: String
    public var cloudModel: String
    public var edgeModelName: String
    public var cloudModelName: String
    public var edgePeers: [Peer]
    public var cloudPeers: [Peer]
    public var hardExampleMining: String
    /// This peer's serving, when it serves the service.
    public var local: ServingReport?

    public init(version: UInt64, edgeModel: String, cloudModel: String, edgeModelName: String, cloudModelName: String,
                edgePeers: [Peer], cloudPeers: [Peer], hardExampleMining: String, local: ServingReport? = nil) {
        self.version = version
        self.edgeModel = edgeModel
        self.cloudModel = cloudModel
        self.edgeModelName = edgeModelName
        self.cloudModelName = cloudModelName
        self.edgePeers = edgePeers
        self.cloudPeers = cloudPeers
        self.hardExampleMining = hardExampleMining
        self.local = local
    }
}

/// What one peer serves of a service and what it answered since it started serving it.
public struct ServingReport: Codable, Equatable, Sendable {
    /// edge, cloud or both.
    public var roles: [String]
    /// The deployment version each role's worker serves (loaded).
    public var versions: [String: UInt64]
    /// Requests answered here as an edge, and refused (4xx/5xx of this peer's own making).
    public var requests: UInt64
    public var refused: UInt64
    /// Examples by where they were answered: edge, cloud, edge-fallback.
    public var examples: [String: UInt64]
    public var hardExamples: UInt64
    /// Hard examples over all examples answered here.
    public var hardShare: Double
    /// Examples whose edge scores no miner could judge (answered at the edge, counted).
    public var badScores: UInt64
    /// Hard examples this peer scored for edges, as a cloud peer.
    public var cloudServed: UInt64
    public var fallbackReasons: [String: UInt64]
    /// By path (edge, cloud, edge-fallback): p50_ms, p99_ms, count, over the latest requests.
    public var latency: [String: [String: Double]]
    /// Cloud peers whose circuit is open here (not asked until their back-off passes).
    public var openCircuits: [String]

    public init(roles: [String], versions: [String: UInt64], requests: UInt64, refused: UInt64, examples: [String: UInt64],
                hardExamples: UInt64, hardShare: Double, badScores: UInt64, cloudServed: UInt64,
                fallbackReasons: [String: UInt64], latency: [String: [String: Double]], openCircuits: [String]) {
        self.roles = roles
        self.versions = versions
        self.requests = requests
        self.refused = refused
        self.examples = examples
        self.hardExamples = hardExamples
        self.hardShare = hardShare
        self.badScores = badScores
        self.cloudServed = cloudServed
        self.fallbackReasons = fallbackReasons
        self.latency = latency
        self.openCircuits = openCircuits
    }
}
