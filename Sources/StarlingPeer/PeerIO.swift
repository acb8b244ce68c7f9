import StarlingCrypto
import StarlingMembership
import StarlingTasks
import StarlingTrust

/// Identifies a timer a machine asked for. Setting a timer with an id that is pending replaces it.
public struct TimerID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "timer#\(rawValue)" }
}

/// An outgoing request over a reliable stream (TCP), answered by one response.
public struct ExchangeID: Hashable, Sendable {
    public let rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
}

/// An incoming request the machine must answer (once) with `sendReply`.
public struct ReplyID: Hashable, Sendable {
    public let rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
}

/// Why a request got no response.
public enum ExchangeFailure: Error, Equatable, Sendable {
    case unreachable(String)
    case timedOut
    case closed(String)
    case tooLarge
}

/// What a driver tells a peer machine.
public enum PeerInput: Sendable {
    /// Once, first.
    case start
    /// A UDP datagram arrived.
    case datagram([UInt8], from: PeerAddress)
    /// A timer set with `setTimer` is due.
    case timerFired(TimerID)
    /// A request frame arrived on a stream; answer it with `sendReply(id, ...)`.
    case requestReceived(ReplyID, [UInt8], from: PeerAddress)
    /// The answer to `sendRequest(id, ...)`, or why none came. Exactly one per request.
    case responseReceived(ExchangeID, Result<[UInt8], ExchangeFailure>)
    /// The operator asked the peer to leave (SIGINT/SIGTERM): leave gracefully, then emit `left`.
    case leave
    /// The driver finished (or failed) a `work` effect.
    case workDone(TaskWorkResult)
}

/// What a peer machine asks its driver to do. Drivers perform effects in order.
public enum PeerEffect: Sendable, Equatable {
    case sendDatagram([UInt8], to: PeerAddress)
    /// Fire `timerFired(id)` at `at` (or at once if that is past); replaces a pending timer of that id.
    case setTimer(TimerID, at: Instant)
    case cancelTimer(TimerID)
    /// Open a stream to `to`, send one request frame, expect one response frame within `timeout`.
    case sendRequest(ExchangeID, [UInt8], to: PeerAddress, timeout: Duration)
    case sendReply(ReplyID, [UInt8])
    case log(LogLevel, String)
    /// A member joined, changed state or was removed from this peer's view (drivers log it with
    /// `logLine`; the simulator's checkers follow views through these instead of re-reading them).
    case memberChanged(MembershipEvent)
    /// Durable facts to keep across a restart (the driver writes them to its store).
    case persist(PersistedState)
    /// A task's replicated state changed: keep it (the driver writes it to its store), so a
    /// restarted peer resumes with its tasks.
    case persistTask(TaskState)
    /// Heavy work of a task round for the driver: move models, run workers, aggregate (`TaskWork`).
    case work(TaskWork)
    /// Graceful leave is complete; the driver may stop.
    case left
}

public enum LogLevel: String, Sendable, Equatable, Comparable {
    case debug, info, notice, warning, error

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool {
        let order: [LogLevel] = [.debug, .info, .notice, .warning, .error]
        return order.firstIndex(of: lhs)! < order.firstIndex(of: rhs)!
    }
}

/// What a peer remembers across restarts. Drivers store it (the simulator may "lose" it on crash).
public struct PersistedState: Sendable, Equatable {
    /// The highest incarnation this node has announced; a restart starts above it.
    public var incarnation: UInt64
    /// Addresses of members last seen alive, to rejoin from when the bootstrap list is unreachable.
    public var knownPeers: [PeerAddress]

    /// The gossip keyring as last changed by a cluster keyring operation (nil: unchanged).
    public var keyring: Keyring?

    public init(incarnation: UInt64 = 0, knownPeers: [PeerAddress] = [], keyring: Keyring? = nil) {
        self.incarnation = incarnation
        self.knownPeers = knownPeers
        self.keyring = keyring
    }
}

/// A member as a peer sees it: what `starling members` prints.
public struct MemberView: Sendable, Equatable {
    public var name: String
    public var node: NodeID
    public var address: PeerAddress
    public var state: MemberState
    public var incarnation: UInt64
    public var tags: [String: String]
    public var isLocal: Bool

    public init(name: String, node: NodeID, address: PeerAddress, state: MemberState, incarnation: UInt64,
                tags: [String: String], isLocal: Bool) {
        self.name = name
        self.node = node
        self.address = address
        self.state = state
        self.incarnation = incarnation
        self.tags = tags
        self.isLocal = isLocal
    }
}

/// A protocol state machine that a driver (libuv runtime or simulator) runs. It performs no I/O,
/// reads no clock and draws no randomness of its own: time and randomness come in, effects go out.
public protocol PeerMachine {
    mutating func handle<R: RandomNumberGenerator>(_ input: PeerInput, now: Instant, random: inout R) -> [PeerEffect]
    /// The current membership view, for `starling members` and for the simulator's checkers.
    var members: [MemberView] { get }
    /// Whether every change to `members` is announced by a `.memberChanged` effect (then a
    /// simulator need not re-read `members` to follow the view; a default says no).
    var reportsMemberChanges: Bool { get }
    /// Calls `body` with each other member's identity and state: what `members` says, without
    /// building views (a simulator reads 10^8 of these to start 10,000 warm peers).
    func forEachMemberState(_ body: (NodeID, MemberState) -> Void)
    /// Counters of what was dropped and why, and other events (name → count).
    var counters: [String: UInt64] { get }
    /// The tasks the machine holds, for `starling task list|status|watch` (a default has none).
    var tasks: [TaskSummary] { get }
    /// How well probes to `node` have gone lately, in (0, 1] (a default says 1): the edge-to-cloud
    /// path prefers the best-linked cloud peer.
    func linkQuality(of node: NodeID) -> Double
    /// An operator's request from the local API (a default refuses it).
    mutating func control<R: RandomNumberGenerator>(
        _ request: ControlRequest, now: Instant, random: inout R
    ) -> (answer: ControlAnswer, effects: [PeerEffect])
}

/// An operator's request through the local API (synchronous answer; long operations run on and are
/// polled by id).
public enum ControlRequest: Sendable, Equatable {
    /// Start a cluster-wide keyring operation; the answer carries its id.
    case keyring(KeyringOperation)
    /// Progress of a keyring operation started earlier.
    case keyringStatus(UInt64)
    /// Sign and spread a validated task spec (its canonical bytes, `TaskSpec.wireBytes`); the
    /// answer's fields carry `id` and `name`.
    case submitTask(specBytes: [UInt8])
    /// Cancel a task named by id, id prefix (8+ characters) or name.
    case cancelTask(String, reason: String)
    /// Ask an IncrementalLearningJob (named by id, id prefix, name, or its deployed model's name)
    /// to serve an earlier version again (0: the current version's parent).
    case rollbackJob(String, version: UInt64)
    /// Replace this peer's tags and announce them (a dataset registered or removed while running).
    case setTags([String: String])
}

public enum KeyringOperation: Sendable, Equatable {
    case install(SymmetricKey)
    case use(SymmetricKey)
    case remove(SymmetricKey)
    case list
}

/// The answer to a control request: success, a human summary, and machine-readable fields.
public struct ControlAnswer: Sendable, Equatable {
    public var ok: Bool
    public var message: String
    public var fields: [String: String]

    public init(ok: Bool, message: String, fields: [String: String] = [:]) {
        self.ok = ok
        self.message = message
        self.fields = fields
    }
}

extension PeerMachine {
    public var reportsMemberChanges: Bool { false }

    public func linkQuality(of node: NodeID) -> Double { 1 }

    public var tasks: [TaskSummary] { [] }

    public func forEachMemberState(_ body: (NodeID, MemberState) -> Void) {
        for member in members where !member.isLocal { body(member.node, member.state) }
    }

    /// Machines without a control plane (test fakes) refuse every request.
    public mutating func control<R: RandomNumberGenerator>(
        _ request: ControlRequest, now: Instant, random: inout R
    ) -> (answer: ControlAnswer, effects: [PeerEffect]) {
        (ControlAnswer(ok: false, message: "this machine has no control plane"), [])
    }
}
