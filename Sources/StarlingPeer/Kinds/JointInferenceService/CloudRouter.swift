import StarlingMembership
import StarlingTrust

/// Where an edge sends a hard example: the live cloud-worker peer with the best measured link
/// quality and the fewest examples in flight, never one whose circuit is open. A peer that fails
/// `failuresToOpen` times in a row (a timeout, a refusal, unreachable) is not asked for
/// `openFor`; then one probe is let through: a success closes its circuit, a failure opens it
/// again for twice as long (at most `openForMax`). So a cloud that is slow or gone costs each
/// request at most one deadline, and only until its circuit opens. With no peer to ask, the caller
/// answers at the edge (`edge-fallback`).
///
/// Pure: the caller passes the time and the candidates (membership's link quality), and reports
/// each outcome; the runtime's request path and the simulator drive the same value.
public struct CloudRouter: Sendable {
    public struct Settings: Sendable, Equatable {
        /// Consecutive failures that open a peer's circuit.
        public var failuresToOpen: Int = 3
        /// How long a circuit first stays open, and the most it stays open after failed probes.
        public var openFor: Duration = .seconds(5)
        public var openForMax: Duration = .seconds(60)

        public init() {}
    }

    /// A peer that may answer hard examples, and this peer's measure of the link to it (0...1).
    public struct Candidate: Sendable, Equatable {
        public let node: NodeID
        public let linkQuality: Double

        public init(node: NodeID, linkQuality: Double) {
            self.node = node
            self.linkQuality = linkQuality
        }
    }

    enum Circuit: Equatable, Sendable {
        /// Asked as usual; `failures` in a row so far.
        case closed(failures: Int)
        /// Not asked until `until`; `openedFor` is how long it was opened for this time.
        case open(until: Instant, openedFor: Duration)
        /// One probe is out; the others wait for its outcome.
        case probing(openedFor: Duration)
    }

    public let settings: Settings
    private(set) var circuits: [NodeID: Circuit] = [:]
    private(set) var inFlight: [NodeID: Int] = [:]

    public init(settings: Settings = Settings()) {
        precondition(settings.failuresToOpen >= 1 && settings.openFor > .zero && settings.openForMax >= settings.openFor,
                     "CloudRouter settings must open after at least one failure, for a positive time")
        self.settings = settings
    }

    /// The peer to send the next example to, not one of `tried` (the peers this example already
    /// failed on); nil when none may be asked. The choice counts as in flight until `finished`.
    public mutating func choose(among candidates: [Candidate], excluding tried: Set<NodeID> = [], now: Instant) -> NodeID? {
        var best: (node: NodeID, score: Double, probe: Bool)?
        for candidate in candidates where !tried.contains(candidate.node) {
            var probe = false
            switch circuits[candidate.node] ?? .closed(failures: 0) {
            case .closed: break
            case let .open(until, _):
                guard now >= until else { continue }
                probe = true
            case .probing: continue
            }
            // Quality first, shared by the examples already in flight there; ties by NodeID.
            let score = max(0, candidate.linkQuality) / Double(1 + (inFlight[candidate.node] ?? 0))
            if let current = best, (current.score, candidate.node) >= (score, current.node) { continue }
            best = (candidate.node, score, probe)
        }
        guard let best else { return nil }
        if best.probe, case let .open(_, openedFor)? = circuits[best.node] { circuits[best.node] = .probing(openedFor: openedFor) }
        inFlight[best.node, default: 0] += 1
        return best.node
    }

    /// The peer answered in time.
    public mutating func succeeded(_ node: NodeID) {
        finished(node)
        circuits[node] = .closed(failures: 0)
    }

    /// The peer did not answer in time, refused, or could not be reached.
    public mutating func failed(_ node: NodeID, now: Instant) {
        finished(node)
        switch circuits[node] ?? .closed(failures: 0) {
        case let .closed(failures):
            if failures + 1 >= settings.failuresToOpen {
                circuits[node] = .open(until: now + settings.openFor, openedFor: settings.openFor)
            } else {
                circuits[node] = .closed(failures: failures + 1)
            }
        case let .probing(openedFor):
            let next = min(openedFor * 2, settings.openForMax)
            circuits[node] = .open(until: now + next, openedFor: next)
        case .open:
            break  // an example sent before the circuit opened: its failure is already counted in
        }
    }

    /// Whether `node`'s circuit is open or probing (for `task status`).
    public func isOpen(_ node: NodeID) -> Bool {
        if case .closed = circuits[node] ?? .closed(failures: 0) { return false }
        return true
    }

    private mutating func finished(_ node: NodeID) {
        guard let count = inFlight[node] else { return }
        inFlight[node] = count > 1 ? count - 1 : nil
    }
}
