import StarlingCrypto
import StarlingMembership
import StarlingPeer
import StarlingTrust

/// All mutable state of a run, as one value.
///
/// The hot path runs as mutating methods of this struct, so Swift checks exclusive access
/// statically instead of at every property access of a class (which cost a third of the
/// instructions per event). Nothing in here calls user code (factories, observers, scripts, log
/// handlers): what they must hear of is queued in `pendingLifecycle`/`pendingLogs` and handed over
/// by `Simulation` after each step.
struct EngineState {
    var now: Instant = .zero
    var timing: NetworkTiming
    let linkKey: UInt64
    let datagramBytesMax: Int
    let frameBytesMax: Int
    let logLevel: LogLevel?
    let logsKept: Int
    let tracing: Bool
    let sampleInterval: Int64

    var queue = EventQueue()
    var nodes: [NodeRecord] = []
    var cold: [NodeInfo] = []
    /// Training workers that fail every round, by task name (a scenario's `failing_workers`).
    var failingWorkers: [String: Set<String>] = [:]
    var addresses: [PeerAddress] = []
    var machines: [(any PeerMachine)?] = []
    var addressIndex: [PeerAddress: Int] = [:]
    var addressTable = AddressTable()
    var identityIndex: [NodeID: Int] = [:]
    var partitions: [Partition] = []
    var statistics = SimulationStatistics()
    var contractViolations: [ContractViolation] = []
    var trace = TraceHasher()
    var logs: [LogRecord] = []
    var logCursor = 0
    var nextGeneration: UInt64 = 1
    var honestUp = 0
    var upAccountedAt: Int64 = 0

    var pendingLifecycle: [LifecycleEvent] = []
    var pendingLogs: [LogRecord] = []
    var pendingTraces: [TraceRecord] = []
    var pendingMemberChanges: [(observer: Int32, event: MembershipEvent)] = []
    /// Honest nodes' views, kept once an observer is added (nil before: nobody reads them).
    var views: ViewTable?

    static let contractViolationsKept = 100

    init(configuration: SimulationConfiguration, linkKey: UInt64) {
        timing = configuration.network.timing
        self.linkKey = linkKey
        datagramBytesMax = configuration.datagramBytesMax
        frameBytesMax = configuration.frameBytesMax
        logLevel = configuration.logLevel
        logsKept = configuration.logsKept
        tracing = configuration.traceHandler != nil
        sampleInterval = max(1, configuration.sampleInterval.nanoseconds)
    }

    @inline(__always)
    func isCurrent(_ node: Int, _ epoch: UInt32) -> Bool {
        nodes[node].epoch == epoch && nodes[node].status == .up
    }

    func isBlocked(from: Int, to: Int) -> Bool {
        if partitions.isEmpty { return false }
        for partition in partitions where partition.blocks(from: from, to: to) { return true }
        return false
    }

    /// A slow node sees each input late: the first time its event pops, it goes back in the queue
    /// `slowExtra` later. Returns true when the event was deferred.
    @inline(__always)
    mutating func deferIfSlow(_ event: ScheduledEvent, _ node: Int) -> Bool {
        let extra = nodes[node].slowExtra
        guard extra > 0, !event.deferred else { return false }
        statistics.deferredEvents &+= 1
        queue.push(at: event.time &+ extra, event.action, deferred: true)
        return true
    }

    mutating func nextGenerationNumber() -> UInt64 {
        defer { nextGeneration &+= 1 }
        return nextGeneration
    }

    mutating func accountUpTime() {
        let elapsed = now.nanoseconds - upAccountedAt
        if elapsed > 0 { statistics.honestUpNanoseconds += Double(honestUp) * Double(elapsed) }
        upAccountedAt = now.nanoseconds
    }

    mutating func recordViolation(_ node: Int, _ message: String) {
        guard nodes[node].honest, contractViolations.count < Self.contractViolationsKept else { return }
        contractViolations.append(ContractViolation(time: now, node: node, message: message))
    }

    mutating func refreshConnectivity(_ node: Int) {
        let connected = nodes[node].status == .up && nodes[node].slowExtra == 0
            && !partitions.contains { $0.involves(node) }
        if connected {
            if cold[node].connectedSince == nil { cold[node].connectedSince = now }
        } else {
            cold[node].connectedSince = nil
        }
    }

    mutating func refreshConnectivity() {
        for node in nodes.indices { refreshConnectivity(node) }
    }

    mutating func addNode(_ spec: NodeSpec, clock: NodeClock, streams: SeedStreams) -> Int {
        let index = nodes.count
        precondition(addressIndex[spec.address] == nil, "two nodes at \(spec.address)")
        var record = NodeRecord(honest: spec.kind == .honest, machineRandom: streams.generator(.machine, index),
                                networkRandom: streams.generator(.network, index))
        record.clock = clock
        nodes.append(record)
        cold.append(NodeInfo(spec: spec))
        addresses.append(spec.address)
        machines.append(nil)
        views?.reserve(nodes.count)
        addressIndex[spec.address] = index
        addressTable.insert(spec.address, index: index)
        if let identity = spec.identity, spec.admitted, identityIndex[identity] == nil { identityIndex[identity] = index }
        return index
    }
}
