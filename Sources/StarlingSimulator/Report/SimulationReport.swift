/// What a scenario run measured and whether its checks held. Prints as a table (`rendered`) or
/// JSON (`SimulationReport.json`).
public struct SimulationReport: Sendable, Codable {
    public var scenario: String
    public var seed: UInt64
    /// The command that reruns exactly this (printed on failure).
    public var reproduce: String
    public var passed: Bool
    public var violations: [Violation]

    public var honestNodes: Int
    public var attackers: Int
    public var liveNodesAtEnd: Int
    public var simulatedSeconds: Double
    public var wallSeconds: Double
    public var events: UInt64
    public var inputs: UInt64
    public var eventsPerWallSecond: Double
    public var traceHash: String
    /// The fault settings in force (drawn from the seed under `faults: random`).
    public var settings: [String]
    public var gossipIntervalSeconds: Double

    public var joins: SpreadSummary
    public var crashes: SpreadSummary
    public var detection: DetectionSummary
    public var falsePositives: FalsePositiveSummary
    public var convergence: ConvergenceSummary
    public var traffic: TrafficSummary
    public var network: NetworkSummary
    /// Machine counters summed over the live honest nodes at the end.
    public var counters: [String: UInt64]
    /// Driver-contract violations by honest machines (also listed among `violations`).
    public var contractViolations: Int
    /// Submitted tasks (empty when the scenario submits none).
    public var tasks: [TaskRow] = []
    /// When every live honest node held every task alike after the heal (nil without tasks).
    public var taskConvergence: ConvergenceSummary?
}

/// How fast joins or crashes became known. Fractions are 50%, 99%, 99.99% and 100%.
public struct SpreadSummary: Sendable, Codable {
    public var fractions: [Double]
    public var count: Int
    public var completed: Int
    public var abandoned: Int
    /// Per fraction, over events that reached it: median and worst time (seconds).
    public var medianSeconds: [Double?]
    public var worstSeconds: [Double?]
    public var rows: [SpreadRow]
}

public struct SpreadRow: Sendable, Codable {
    public var kind: String
    public var node: String
    public var at: Double
    /// Per fraction; nil when not reached.
    public var seconds: [Double?]
    public var abandoned: Bool
}

public struct DetectionSummary: Sendable, Codable {
    public var samples: Int
    public var p50Seconds: Double?
    public var p99Seconds: Double?
    public var maxSeconds: Double?
    public var undetected: Int
    public var boundSeconds: Double?
}

public struct FalsePositiveSummary: Sendable, Codable {
    /// (observer, connected node) pairs marked dead.
    public var deadMarks: Int
    public var suspectEvents: Int
    /// Episodes of a connected node held dead by a majority.
    public var majorityEpisodes: Int
    /// Whether majority episodes fail the run.
    public var failing: Bool
    public var graceSeconds: Double
}

public struct ConvergenceSummary: Sendable, Codable {
    public var healAt: Double
    public var boundSeconds: Double
    public var convergedAt: Double?
    /// From the heal (or the last node event after it) to convergence.
    public var seconds: Double?
}

public struct TrafficSummary: Sendable, Codable {
    public var steadyStateFrom: Double
    public var bytesPerNodePerSecond: Double?
    public var totalHonestBytes: UInt64
}

public struct NetworkSummary: Sendable, Codable {
    public var datagramsSent: UInt64
    public var datagramsDelivered: UInt64
    public var lost: UInt64
    public var duplicated: UInt64
    public var partitioned: UInt64
    public var toDownNodes: UInt64
    public var unroutable: UInt64
    public var oversized: UInt64
    public var requests: UInt64
    public var responses: UInt64
    public var exchangeFailures: UInt64
    public var exchangeTimeouts: UInt64
    /// Stream segments delayed by a retransmission timeout (lossy networks).
    public var streamRetransmissions: UInt64
}
