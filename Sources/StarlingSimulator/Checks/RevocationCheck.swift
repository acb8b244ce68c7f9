import StarlingMembership

/// Safety: `bound` after the authority revokes a node, no honest live node holds it alive or
/// suspect.
public final class RevocationCheck: Check {
    public let name = "revocation-spread"
    public let bound: Duration
    public private(set) var violations: [Violation] = []
    private var revokedAt: [(node: Int, time: Instant)] = []
    private var reported: Set<UInt64> = []

    public init(bound: Duration) { self.bound = bound }

    public func lifecycle(_ event: LifecycleEvent, at time: Instant, in simulation: Simulation) {
        if case let .revoked(node) = event { revokedAt.append((node, time)) }
    }

    public func sample(_ sample: MembershipSample, in simulation: Simulation) {
        let due = revokedAt.filter { sample.time - $0.time >= bound }
        guard !due.isEmpty else { return }
        for observer in sample.observers {
            for (node, time) in due where node != observer && sample.believesUp(node, heldBy: observer) {
                guard reported.insert(UInt64(observer) << 32 | UInt64(node)).inserted,
                      violations.count < violationsKept else { continue }
                violations.append(Violation(
                    time: sample.time, check: name,
                    message: "\(simulation.name(of: observer)) still holds \(simulation.name(of: node)) "
                        + "\(sample.state(of: node, heldBy: observer)!) \(formatDuration(sample.time - time)) after its revocation "
                        + "(bound \(formatDuration(bound)))"))
            }
        }
    }
}
