import StarlingMembership
import StarlingPeer
import StarlingTrust

/// A simulation scenario, as read from a YAML file (docs/simulation.md has the format).
public struct Scenario: Sendable {
    public var name: String
    /// Used when no `--seed` is given; nil: the runner's caller picks one (and prints it).
    public var seed: UInt64?
    public var duration: Duration
    /// Honest nodes at the start; `join` events add more.
    public var nodes: Int
    /// Initial nodes start evenly spread over this window.
    public var stagger: Duration = .zero
    /// Tag key → values, assigned round-robin by node number.
    public var tags: [(key: String, values: [String])] = []
    /// Roles certified for every honest node (`roles: [peer, coordinator, submit]`); `submit`
    /// events need `submit`.
    public var roles: Roles = [.peer, .coordinator]
    public var attackers = 0
    public var attackerMachine = "forger"
    public var attackerCertified = true
    /// When attackers start (default: when the last initial node starts).
    public var attackerStart: Duration?
    public var membership = MembershipSettings()
    public var packetAuthentication: PacketAuthentication = .simulatedNetwork
    /// `warm_start: true`: nodes start knowing every honest node (see ClusterConfiguration.warmStart).
    public var warmStart = false
    public var network = NetworkModel()
    public var faults: FaultPlan = .none
    /// Sorted by time (file order among equal times).
    public var events: [ScenarioEvent] = []
    public var checks = CheckSettings()

    public init(name: String, duration: Duration, nodes: Int) {
        self.name = name
        self.duration = duration
        self.nodes = nodes
    }

    /// Honest nodes over the whole run (initial plus joins).
    public var totalNodes: Int {
        nodes + events.reduce(0) { total, event in
            if case let .join(count) = event.action { return total + count }
            return total
        }
    }

    /// When the liveness phase starts: `checks.heal_at`, or `duration - checks.convergence`.
    public var healAt: Duration { checks.healAt ?? max(.zero, duration - checks.convergence) }
}

/// Which nodes an event or fault applies to.
public enum NodeSelection: Sendable, Equatable, CustomStringConvertible {
    /// This many nodes drawn at random (from the seed) among those the action fits.
    case random(Int)
    case nodes([NodeReference])
    case all

    public var description: String {
        switch self {
        case let .random(count): return "\(count) random"
        case let .nodes(references): return references.map(\.description).joined(separator: ",")
        case .all: return "all"
        }
    }
}

public enum NodeReference: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// node-k
    case honest(Int)
    /// attacker-k
    case attacker(Int)

    public var description: String {
        switch self {
        case let .honest(k): return "node-\(k)"
        case let .attacker(k): return "attacker-\(k)"
        }
    }
}

public enum FaultPlan: Sendable, Equatable {
    case none
    /// Drawn from the seed within documented ranges (swarm testing): see `RandomFaults`.
    case random
    case explicit(ExplicitFaults)
}

public struct ExplicitFaults: Sendable, Equatable {
    /// Each node's clock drifts by a rate drawn in ±`ppm` and starts offset by up to ±`offset`.
    public var clockDrift: ClockDrift?
    public var slowNodes: [SlowNodes] = []
    public var partitions: [TimedPartition] = []
    public var crashes: [TimedCrash] = []
    public init() {}
}

public struct ClockDrift: Sendable, Equatable {
    public var ppm: Double
    public var offset: Duration
}

public struct SlowNodes: Sendable, Equatable {
    public var nodes: NodeSelection
    public var extraDelay: Duration
    public var from: Duration
    public var to: Duration?
}

public struct TimedPartition: Sendable, Equatable {
    public var name: String
    public var sideA: NodeSelection
    /// nil: every other node.
    public var sideB: NodeSelection?
    public var oneWay: Bool
    public var from: Duration
    public var to: Duration?
}

public struct TimedCrash: Sendable, Equatable {
    public var at: Duration
    public var nodes: NodeSelection
    public var storeSurvives: Bool
    public var restartAfter: Duration?
}

/// Something that happens at a time.
public struct ScenarioEvent: Sendable, Equatable {
    public var at: Duration
    public var action: ScenarioAction
    /// Where it came from (`events[3]`, `faults.crashes[0]`), for messages.
    public var source: String

    public init(at: Duration, action: ScenarioAction, source: String) {
        self.at = at
        self.action = action
        self.source = source
    }
}

public enum ScenarioAction: Sendable, Equatable {
    case crash(NodeSelection, storeSurvives: Bool, restartAfter: Duration?)
    case restart(NodeSelection)
    case partition(name: String, sideA: NodeSelection, sideB: NodeSelection?, oneWay: Bool)
    /// nil: every partition.
    case heal(String?)
    /// Starts this many new honest nodes.
    case join(Int)
    case leave(NodeSelection)
    /// Zero extra delay makes the nodes normal again.
    case slow(NodeSelection, extraDelay: Duration)
    case loss(Double)
    case revoke(NodeSelection)
    /// An operator submits a task spec to a node (nil: a random live honest node).
    case submit(TaskSubmission)
    /// Crashes the node that holds the named task's lease (as the live peers see it).
    case crashCoordinator(task: String, storeSurvives: Bool, restartAfter: Duration?)

    /// Whether the action disturbs the cluster (it must come before the liveness phase).
    var name: String {
        switch self {
        case .crash: return "crash"
        case .restart: return "restart"
        case .partition: return "partition"
        case .heal: return "heal"
        case .join: return "join"
        case .leave: return "leave"
        case .slow: return "slow"
        case .loss: return "loss"
        case .revoke: return "revoke"
        case .submit: return "submit"
        case .crashCoordinator: return "crash_coordinator"
        }
    }
}

public enum FalsePositivePolicy: String, Sendable, Equatable {
    /// Fail on a majority's false verdict only when the network loses nothing and no node is slow.
    case auto
    case fail
    case measure
}

/// What the checkers enforce and measure.
public struct CheckSettings: Sendable, Equatable {
    public var healAt: Duration?
    public var convergence: Duration = .seconds(30)
    /// Every connected live node must see a crash within this (nil: only measured).
    public var detection: Duration?
    public var revocationSpread: Duration = .seconds(30)
    public var falsePositives: FalsePositivePolicy = .auto
    /// How long a node must have been connected before a verdict against it counts (nil: from the
    /// membership settings' longest suspicion timeout).
    public var falsePositiveGrace: Duration?
    public var sampleEvery: Duration = .milliseconds(250)
    /// Start of the window for bytes per node per second (nil: the liveness phase).
    public var steadyStateFrom: Duration?
    /// Joins before this are not measured (0: every node's first start counts as a join).
    public var joinsFrom: Duration = .zero
    public init() {}
}

/// A task spec read from a file at parse time (`submit: FILE`).
public struct TaskSubmission: Sendable, Equatable {
    /// The file as written in the scenario, and as resolved (relative to the scenario's folder).
    public var file: String
    public var path: String
    /// `metadata.name`, which `crash_coordinator` uses.
    public var name: String
    /// The spec's canonical bytes (`TaskSpec.wireBytes`), what `ControlRequest.submitTask` takes.
    public var specBytes: [UInt8]
    /// The node the operator submits to (nil: a random live honest node, drawn from the seed).
    public var to: NodeReference?
    /// Training workers of the task that fail every round (`failing_workers`).
    public var failingWorkers: [String]

    public init(file: String, path: String, name: String, specBytes: [UInt8], to: NodeReference?, failingWorkers: [String] = []) {
        self.file = file
        self.path = path
        self.name = name
        self.specBytes = specBytes
        self.to = to
        self.failingWorkers = failingWorkers
    }
}
