import StarlingMembership

/// Safety (or a measurement on a lossy network): no node that is up and connected is held dead by
/// a majority of live nodes whose verdicts were formed while it was connected. Also counts false
/// positives: each time an observer marks such a node dead, or starts suspecting it.
///
/// "Connected" means up, not slow and in no partition (see `Simulation.isConnected`). A verdict
/// counts only if it was first seen at least `grace` after the node became connected; `grace`
/// should cover the longest suspicion timeout. Verdicts formed while the node was down or cut off
/// were right when they were made; how fast they are reversed after a heal or restart is the
/// convergence check's business.
public final class FalseDeathCheck: Check {
    public let name = "no-false-death"
    public let grace: Duration
    /// Whether a majority's false verdict is a violation (otherwise it is only counted).
    public let strict: Bool
    public private(set) var violations: [Violation] = []
    /// (observer, node) transitions to dead while both had been connected for `grace`.
    public private(set) var deadMarks = 0
    /// (observer, node) transitions to suspect under the same condition.
    public private(set) var suspectEvents = 0
    /// Episodes of a connected node held dead by a majority.
    public private(set) var majorityEpisodes = 0

    /// Non-alive states seen last, and when the observer was first seen holding them.
    private var previous: [UInt64: (state: MemberState, since: Instant)] = [:]
    private var majorityNow: Set<Int> = []

    public init(grace: Duration, strict: Bool) {
        self.grace = grace
        self.strict = strict
    }

    /// Whether `node` had been connected for `grace` at `time` (and still is).
    private func steady(_ node: Int, _ simulation: Simulation, at time: Instant) -> Bool {
        guard simulation.kind(of: node) == .honest, let since = simulation.connectedSince(node) else { return false }
        return time - since >= grace
    }

    public func sample(_ sample: MembershipSample, in simulation: Simulation) {
        let count = simulation.nodeCount
        var heldDead = [Int](repeating: 0, count: count)
        var current: [UInt64: (state: MemberState, since: Instant)] = [:]
        // Only suspect and dead cells matter; every other cell reads as alive here.
        for (observer, node, state) in sample.unsettled where node != observer && (state == .dead || state == .suspect) {
            let key = UInt64(observer) << 32 | UInt64(node)
            let before = previous[key] ?? (.alive, sample.time)
            let since = before.state == state ? before.since : sample.time
            current[key] = (state, since)
            guard simulation.isUp(node), steady(node, simulation, at: sample.time) else { continue }
            let observerSteady = steady(observer, simulation, at: sample.time)
            // Formed while the node was connected (and had been for `grace`)?
            let formedWhileConnected = since - simulation.connectedSince(node)! >= grace
            if state == .dead {
                if formedWhileConnected { heldDead[node] += 1 }
                if before.state != .dead && observerSteady { deadMarks += 1 }
            } else if before.state != .suspect && observerSteady {
                suspectEvents += 1
            }
        }
        previous = current
        let voters = sample.observers.count
        var majority: Set<Int> = []
        for node in 0..<count where heldDead[node] > 0 {
            let others = voters - (sample.observers.contains(node) ? 1 : 0)
            guard heldDead[node] * 2 > others else { continue }
            majority.insert(node)
            guard !majorityNow.contains(node) else { continue }
            majorityEpisodes += 1
            if strict && violations.count < violationsKept {
                violations.append(Violation(
                    time: sample.time, check: name,
                    message: "\(simulation.name(of: node)) is up and connected (since "
                        + "\(formatDecimal(simulation.connectedSince(node)!.seconds, places: 3))s) but \(heldDead[node]) "
                        + "of \(others) live nodes hold it dead"))
            }
        }
        majorityNow = majority
    }
}
