import StarlingMembership
import StarlingPeer
import StarlingWire

/// How a simulation runs (what the network does is in `network`; faults are applied by calls).
public struct SimulationConfiguration {
    public var seed: UInt64
    public var network: NetworkModel
    /// How often observers get every live honest node's member view.
    public var sampleInterval: Duration = .milliseconds(250)
    /// Node log lines at or above this level are kept (the last `logsKept`) and passed to
    /// `logHandler`; nil keeps none.
    public var logLevel: LogLevel? = .warning
    public var logsKept = 1_000
    public var logHandler: ((LogRecord) -> Void)?
    /// Called with every input handed to a machine, for debugging a run (slow: off by default).
    public var traceHandler: ((TraceRecord) -> Void)?
    /// Limits of the real transports; honest nodes that exceed them break the driver contract.
    public var datagramBytesMax = WireLimits.datagramBytesMax
    public var frameBytesMax = WireLimits.frameBytesMax

    public init(seed: UInt64, network: NetworkModel = NetworkModel()) {
        self.seed = seed
        self.network = network
    }
}

/// A node's log line.
public struct LogRecord: Sendable, Equatable {
    public var time: Instant
    public var node: Int
    public var name: String
    public var level: LogLevel
    public var message: String

    public var line: String { "[\(formatDecimal(time.seconds, places: 3, keepZeros: true))s] \(name) \(level.rawValue): \(message)" }
}

/// One input handed to a machine.
public struct TraceRecord: Sendable {
    public var time: Instant
    public var localTime: Instant
    public var node: Int
    public var input: String
}

/// A machine did something the real drivers would refuse or that breaks the `PeerIO` contract.
public struct ContractViolation: Sendable, Equatable {
    public var time: Instant
    public var node: Int
    public var message: String
}

/// Something that happened to a node or the network, as observers hear of it.
public enum LifecycleEvent: Sendable, Equatable {
    /// The machine got `.start` (a first start is a join).
    case started(node: Int, restart: Bool)
    case crashed(node: Int, storeSurvives: Bool)
    /// The node was asked to leave.
    case leaving(node: Int)
    /// The node completed its leave and stopped.
    case left(node: Int)
    /// Partitions or slow nodes changed (connectivity may have changed for many nodes).
    case networkChanged
    /// The authority revoked the node.
    case revoked(node: Int)
}

/// Gets each node's view at every sample, hears of lifecycle events and of every change to an
/// honest node's view. Checkers and measurements are observers.
public protocol SimulationObserver: AnyObject {
    func lifecycle(_ event: LifecycleEvent, at time: Instant, in simulation: Simulation)
    /// `observer` (an honest node) saw a member join, change state or go. Machines that do not
    /// report changes replay their whole view as `.joined` events at each sample.
    func memberChanged(_ event: MembershipEvent, heldBy observer: Int, at time: Instant, in simulation: Simulation)
    func sample(_ sample: MembershipSample, in simulation: Simulation)
    /// The run is over (called once by `Simulation.finish()`).
    func finish(at time: Instant, in simulation: Simulation)
}

extension SimulationObserver {
    public func lifecycle(_ event: LifecycleEvent, at time: Instant, in simulation: Simulation) {}
    public func memberChanged(_ event: MembershipEvent, heldBy observer: Int, at time: Instant, in simulation: Simulation) {}
    public func sample(_ sample: MembershipSample, in simulation: Simulation) {}
    public func finish(at time: Instant, in simulation: Simulation) {}
}

/// Every live honest node's member view at one instant.
public struct MembershipSample {
    public let time: Instant
    /// Nodes whose views the sample holds (up and honest), ascending.
    public let observers: [Int]
    let table: ViewTable

    /// The state `observer` holds `member` in; nil when it does not know it (or is no observer).
    public func state(of member: Int, heldBy observer: Int) -> MemberState? {
        table.state(observer, member)
    }

    /// `observer` holds `member` alive or suspect: believes it is a member that is up.
    public func believesUp(_ member: Int, heldBy observer: Int) -> Bool {
        let state = table.state(observer, member)
        return state == .alive || state == .suspect
    }

    /// Every (observer, member) cell held suspect, dead or left, ascending by observer then member.
    /// Cells of nodes that are not observers now (crashed since) are left out.
    public var unsettled: [(observer: Int, member: Int, state: MemberState)] {
        let observing = Set(observers)
        return table.unsettled.sorted().compactMap { key in
            let observer = Int(key >> 32), member = Int(key & 0xFFFF_FFFF)
            guard observing.contains(observer), let state = table.state(observer, member) else { return nil }
            return (observer, member, state)
        }
    }
}
