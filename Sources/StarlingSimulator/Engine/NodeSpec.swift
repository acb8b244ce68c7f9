import StarlingTasks
import StarlingCrypto
import StarlingMembership
import StarlingPeer
import StarlingTrust

/// Whose side a node is on. Checkers look only at honest nodes' views, and attackers' sends are
/// exempt from the driver-contract checks.
public enum NodeKind: String, Sendable, Equatable {
    case honest
    case attacker
}

/// Where a node is in its life.
public enum NodeStatus: String, Sendable, Equatable {
    /// Not started yet (a later join).
    case pending
    /// Booting: its machine gets `.start` next; nothing reaches it before that.
    case starting
    case up
    case crashed
    /// Emitted `.left` after a graceful leave.
    case left
}

/// Everything the engine needs to run one node.
public struct NodeSpec {
    public var name: String
    public var address: PeerAddress
    public var kind: NodeKind
    /// The node's identity, if it has one the checkers should know.
    public var identity: NodeID?
    /// Whether the authority admitted this identity (an admitted identity may legitimately appear
    /// in views once the node has run).
    public var admitted: Bool
    /// Makes the node's machine at each (re)start.
    public var makeMachine: (MachineStart) -> any PeerMachine

    public init(name: String, address: PeerAddress, kind: NodeKind = .honest, identity: NodeID? = nil,
                admitted: Bool = true, makeMachine: @escaping (MachineStart) -> any PeerMachine) {
        self.name = name
        self.address = address
        self.kind = kind
        self.identity = identity
        self.admitted = admitted
        self.makeMachine = makeMachine
    }
}

/// What a node's factory gets when its process (re)starts.
public struct MachineStart: Sendable {
    public var node: Int
    /// What the node's store kept (the last `persist`); nil for an empty store.
    public var persisted: PersistedState?
    /// The tasks the node's store kept (the last `persistTask` of each).
    public var tasks: [TaskState] = []
    /// The node's own clock reading and the simulation's global time.
    public var localTime: Instant
    public var globalTime: Instant
    /// 1 for the first start, 2 for the first restart, ...
    public var life: Int
}

/// An inbound request a node has not answered yet.
struct InboundRequest {
    var requester: Int32
    var requesterEpoch: UInt32
    var exchange: UInt64
    var generation: UInt64
}

/// The engine's per-event state of one node, packed together (about three cache lines) because
/// at 10,000 nodes the engine is bound by memory latency. Everything else about a node is in
/// `NodeInfo`; machines live in their own array.
struct NodeRecord {
    var epoch: UInt32 = 0
    var status: NodeStatus = .pending
    var honest: Bool
    /// Extra delay added to every input while the node is starved of CPU (0: not slow).
    var slowExtra: Int64 = 0
    var clock = NodeClock.exact
    /// Pending timers: id → generation of the live heap entry.
    var timers = TimerTable()
    /// The node machine's randomness, and the network's draws for what it sends.
    var machineRandom: DeterministicRandom
    var networkRandom: DeterministicRandom
    var traffic = NodeTraffic()

    init(honest: Bool, machineRandom: DeterministicRandom, networkRandom: DeterministicRandom) {
        self.honest = honest
        self.machineRandom = machineRandom
        self.networkRandom = networkRandom
    }
}

/// What the engine knows about a node beyond its per-event state.
struct NodeInfo {
    var spec: NodeSpec
    /// Pending outgoing requests: exchange id → generation.
    var exchanges = TimerTable()
    /// Requests received and not answered: reply id → requester.
    var inbound: [UInt64: InboundRequest] = [:]
    var nextReply: UInt64 = 1
    /// What the node's store holds (the last `persist`), nil when it holds nothing.
    var persisted: PersistedState?
    var persistedTasks: [TaskID: TaskState] = [:]
    /// The simulated driver's aggregations: workers folded in, by task, epoch and round.
    var foldedUpdates: [SimulatedRound: Set<String>] = [:]
    var starts = 0
    var firstStartedAt: Instant?
    var upSince: Instant?
    var downSince: Instant?
    /// Since when the node has been up, not slow and outside every partition (nil: not now).
    var connectedSince: Instant?

    init(spec: NodeSpec) { self.spec = spec }
}

/// What one node sent.
public struct NodeTraffic: Sendable, Equatable {
    public var datagrams: UInt64 = 0
    public var datagramBytes: UInt64 = 0
    public var requests: UInt64 = 0
    public var streamBytes: UInt64 = 0
    public var bytes: UInt64 { datagramBytes + streamBytes }
}
