import StarlingCrypto
import StarlingMembership
import StarlingPeer
import StarlingTrust

/// A deterministic discrete-event simulation of peer machines on a simulated network.
///
/// One thread, one virtual clock, one event queue ordered by (time, sequence). Machines are
/// `any PeerMachine`, so honest peers, attackers and test fakes share a run. Everything random
/// comes from `configuration.seed` through `SeedStreams`; the same seed and the same calls give
/// the same run, which `traceHash` summarises.
///
/// Not thread-safe, and not re-entrant: factories, observers, scripts and log handlers may ask the
/// simulation anything and schedule or inject faults, but must not call `step` or `run`.
public final class Simulation {
    public let configuration: SimulationConfiguration
    public let streams: SeedStreams
    /// The network as it behaves now (change `loss` etc. at any time).
    public var network: NetworkModel {
        didSet { state.timing = network.timing }
    }

    var state: EngineState
    var scripts: [((Simulation) -> Void)?] = []
    var observers: [any SimulationObserver] = []
    var sampling = false
    var finished = false

    public init(configuration: SimulationConfiguration) {
        self.configuration = configuration
        self.streams = SeedStreams(seed: configuration.seed)
        self.network = configuration.network
        self.state = EngineState(configuration: configuration, linkKey: streams.childSeed(.linkDelay))
    }

    /// From now on, these training workers of the task named `task` fail every round they are
    /// ordered to train, wherever they run (a worker given up by its peer, as on a real cluster).
    public func failWorkers(_ workers: [String], ofTask task: String) {
        state.failingWorkers[task, default: []].formUnion(workers)
    }

    // MARK: Building

    /// Adds a node (not started). Its randomness streams are keyed by its index, so adding nodes
    /// never changes the draws of the ones before.
    @discardableResult
    public func addNode(_ spec: NodeSpec, clock: NodeClock = .exact) -> Int {
        state.addNode(spec, clock: clock, streams: streams)
    }

    /// Starts (boots) a node now: its machine is made and gets `.start` as the next event.
    public func start(_ node: Int) {
        state.accountUpTime()
        _ = state.prepareStart(node)
    }

    public func scheduleStart(_ node: Int, at time: Instant) {
        schedule(at: time) { $0.start(node) }
    }

    /// Runs `action` at `time` (or now, if that is past), in order with other events.
    public func schedule(at time: Instant, _ action: @escaping (Simulation) -> Void) {
        scripts.append(action)
        state.queue.push(at: max(time.nanoseconds, state.now.nanoseconds), .script(scripts.count - 1))
    }

    public func addObserver(_ observer: any SimulationObserver) {
        observers.append(observer)
        state.trackViews()
        if !sampling {
            sampling = true
            state.queue.push(at: state.now.nanoseconds, .sample)
        }
    }

    // MARK: Running

    /// Processes events up to and including `end`; the clock then reads `end`.
    public func run(until end: Instant) {
        while true {
            let outcome = state.advance(until: end.nanoseconds, single: false)
            if case .idle = outcome { break }
            handle(outcome)
        }
        if state.now < end { state.now = end }
    }

    /// Processes one event; false when the queue is empty.
    @discardableResult
    public func step() -> Bool {
        let outcome = state.advance(until: .max, single: true)
        if case .idle = outcome { return false }
        handle(outcome)
        return true
    }

    private func handle(_ outcome: StepOutcome) {
        switch outcome {
        case .idle, .handled:
            break
        case let .script(index):
            let action = scripts[index]
            scripts[index] = nil
            action?(self)
        case .sample:
            takeSample()
        case let .boot(node):
            let start = state.beginBoot(node)
            let factory = state.cold[node].spec.makeMachine
            let machine = factory(start)
            state.install(machine, at: node)
        }
        if state.hasPending { deliverPending() }
    }

    /// Hands queued lifecycle events, log lines and trace records to observers and handlers.
    func deliverPending() {
        if !state.pendingLifecycle.isEmpty {
            let events = state.pendingLifecycle
            state.pendingLifecycle.removeAll()
            for event in events {
                for observer in observers { observer.lifecycle(event, at: state.now, in: self) }
            }
        }
        if !state.pendingMemberChanges.isEmpty {
            let changes = state.pendingMemberChanges
            state.pendingMemberChanges.removeAll()
            for (observer, event) in changes {
                for each in observers { each.memberChanged(event, heldBy: Int(observer), at: state.now, in: self) }
            }
        }
        if !state.pendingLogs.isEmpty {
            let logs = state.pendingLogs
            state.pendingLogs.removeAll()
            if let handler = configuration.logHandler { logs.forEach(handler) }
        }
        if !state.pendingTraces.isEmpty {
            let traces = state.pendingTraces
            state.pendingTraces.removeAll()
            if let handler = configuration.traceHandler { traces.forEach(handler) }
        }
    }

    /// Ends the run: observers get `finish` once.
    public func finish() {
        guard !finished else { return }
        finished = true
        state.accountUpTime()
        for observer in observers { observer.finish(at: state.now, in: self) }
    }

    public var now: Instant { state.now }
    public var statistics: SimulationStatistics { state.statistics }
    public var partitions: [Partition] { state.partitions }
    public var contractViolations: [ContractViolation] { state.contractViolations }
    public var pendingEvents: Int { state.queue.count }
    public var traceHash: UInt64 { state.trace.value }
    public var traceHashHex: String { state.trace.hex }

    /// Node log lines kept (oldest first).
    public var recentLogs: [LogRecord] {
        let logs = state.logs, cursor = state.logCursor
        return logs.count < configuration.logsKept ? logs : Array(logs[cursor...] + logs[..<cursor])
    }

    // MARK: Questions about nodes (ground truth for checkers and tests)

    public var nodeCount: Int { state.nodes.count }
    public func status(of node: Int) -> NodeStatus { state.nodes[node].status }
    public func name(of node: Int) -> String { state.cold[node].spec.name }
    public func address(of node: Int) -> PeerAddress { state.addresses[node] }
    public func kind(of node: Int) -> NodeKind { state.cold[node].spec.kind }
    public func identity(of node: Int) -> NodeID? { state.cold[node].spec.identity }
    public func isAdmitted(_ node: Int) -> Bool { state.cold[node].spec.admitted }
    public func index(of identity: NodeID) -> Int? { state.identityIndex[identity] }
    public func index(of address: PeerAddress) -> Int? { state.addressIndex[address] }
    public func index(named name: String) -> Int? { state.cold.firstIndex { $0.spec.name == name } }
    public func hasStarted(_ node: Int) -> Bool { state.cold[node].firstStartedAt != nil }
    public func firstStartedAt(_ node: Int) -> Instant? { state.cold[node].firstStartedAt }
    public func upSince(_ node: Int) -> Instant? { state.cold[node].upSince }
    public func downSince(_ node: Int) -> Instant? { state.cold[node].downSince }
    public func starts(of node: Int) -> Int { state.cold[node].starts }
    public func isUp(_ node: Int) -> Bool { state.nodes[node].status == .up }
    public func clock(of node: Int) -> NodeClock { state.nodes[node].clock }
    public func localTime(of node: Int) -> Instant { Instant(nanoseconds: state.nodes[node].clock.local(state.now.nanoseconds)) }
    public func slowExtraDelay(of node: Int) -> Duration { .nanoseconds(state.nodes[node].slowExtra) }
    public func persistedState(of node: Int) -> PersistedState? { state.cold[node].persisted }
    public func traffic(of node: Int) -> NodeTraffic { state.nodes[node].traffic }
    public func machine(of node: Int) -> (any PeerMachine)? { state.machines[node] }
    public func members(of node: Int) -> [MemberView] { state.machines[node]?.members ?? [] }
    public func counters(of node: Int) -> [String: UInt64] { state.machines[node]?.counters ?? [:] }
    public func pendingTimers(of node: Int) -> Int { state.nodes[node].timers.count }
    public func pendingExchanges(of node: Int) -> Int { state.cold[node].exchanges.count }

    /// Up, not slow and in no partition.
    public func isConnected(_ node: Int) -> Bool { state.cold[node].connectedSince != nil }
    /// Since when `isConnected` has held without a break (nil: not connected now).
    public func connectedSince(_ node: Int) -> Instant? { state.cold[node].connectedSince }
    /// Whether traffic from `from` to `to` is cut by a partition now.
    public func isBlocked(from: Int, to: Int) -> Bool { state.isBlocked(from: from, to: to) }
}
