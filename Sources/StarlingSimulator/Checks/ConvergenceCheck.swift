import StarlingMembership

/// Liveness: after the network heals at `healAt`, within `bound` every live honest node holds
/// every other live honest node alive, and every crashed (not restarted) or departed node dead,
/// left or not at all. A node event after the heal (a join, crash, restart, leave) restarts the
/// clock: convergence is then due `bound` after it.
public final class ConvergenceCheck: Check {
    public let name = "convergence"
    public let healAt: Instant
    public let bound: Duration
    public private(set) var violations: [Violation] = []
    /// When the cluster was last seen converged after the heal (nil: not yet, or not since the
    /// last node event).
    public private(set) var convergedAt: Instant?
    public private(set) var deadline: Instant
    private var failedDeadline: Instant?
    private var revoked: Set<Int> = []

    public init(healAt: Instant, bound: Duration) {
        self.healAt = healAt
        self.bound = bound
        self.deadline = healAt + bound
    }

    /// Time from the heal (or the last node event after it) to convergence.
    public var convergenceTime: Duration? {
        convergedAt.map { $0 - (deadline - bound) }
    }

    public func lifecycle(_ event: LifecycleEvent, at time: Instant, in simulation: Simulation) {
        switch event {
        case .revoked(let node):
            revoked.insert(node)
        case .networkChanged:
            return
        default:
            break
        }
        guard time >= healAt else { return }
        convergedAt = nil
        deadline = max(deadline, time + bound)
    }

    public func sample(_ sample: MembershipSample, in simulation: Simulation) {
        guard sample.time >= healAt, convergedAt == nil else { return }
        let problems = check(sample, simulation, examplesMax: 5)
        if problems.isEmpty {
            convergedAt = sample.time
        } else if sample.time >= deadline, failedDeadline != deadline {
            failedDeadline = deadline
            violations.append(Violation(
                time: sample.time, check: name,
                message: "not converged \(formatDuration(bound)) after the network healed or the last node event: "
                    + problems.joined(separator: "; ")))
        }
    }

    public func finish(at time: Instant, in simulation: Simulation) {
        guard convergedAt == nil, failedDeadline != deadline, time >= healAt else { return }
        violations.append(Violation(
            time: time, check: name,
            message: "the run ended at \(formatDecimal(time.seconds, places: 3))s before the cluster converged "
                + "(due by \(formatDecimal(deadline.seconds, places: 3))s)"))
    }

    /// What keeps the cluster from having converged (at most `examplesMax` examples, then a count).
    func check(_ sample: MembershipSample, _ simulation: Simulation, examplesMax: Int) -> [String] {
        var live: [Int] = [], departed: [Int] = []
        for node in 0..<simulation.nodeCount where simulation.kind(of: node) == .honest && !revoked.contains(node) {
            switch simulation.status(of: node) {
            case .up: live.append(node)
            case .crashed, .left: if simulation.hasStarted(node) { departed.append(node) }
            default: break
            }
        }
        var problems: [String] = []
        var missing = 0
        let observing = Set(sample.observers)
        for observer in live where observing.contains(observer) {
            for node in live where node != observer && sample.state(of: node, heldBy: observer) != .alive {
                missing += 1
                if problems.count < examplesMax {
                    let state = sample.state(of: node, heldBy: observer).map { "\($0)" } ?? "unknown"
                    problems.append("\(simulation.name(of: observer)) holds \(simulation.name(of: node)) \(state) (it is up)")
                }
            }
            for node in departed where sample.believesUp(node, heldBy: observer) {
                missing += 1
                if problems.count < examplesMax {
                    problems.append("\(simulation.name(of: observer)) holds \(simulation.name(of: node)) "
                        + "\(sample.state(of: node, heldBy: observer)!) (it \(simulation.status(of: node) == .left ? "left" : "crashed"))")
                }
            }
        }
        if missing > problems.count { problems.append("\(missing - problems.count) more") }
        return problems
    }
}
