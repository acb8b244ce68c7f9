import StarlingMembership

/// Safety: no honest live node holds a member it could not have been legitimately introduced to:
/// an identity the authority never admitted (a forged one), a node that has never run, or a real
/// node under another address or name. Checked as members join an honest node's view.
public final class LegitimateMembersCheck: Check {
    public let name = "legitimate-members"
    public private(set) var violations: [Violation] = []
    private var reported: Set<String> = []

    public init() {}

    public func memberChanged(_ event: MembershipEvent, heldBy observer: Int, at time: Instant, in simulation: Simulation) {
        guard case let .joined(member, memberName, address) = event else { return }
        let index = simulation.index(of: member)
        let problem: String
        if let index {
            if !simulation.hasStarted(index) {
                problem = "a node that has never run"
            } else if address != simulation.address(of: index) {
                problem = "at \(address), but \(simulation.name(of: index)) is at \(simulation.address(of: index))"
            } else if memberName != simulation.name(of: index) {
                problem = "under the name '\(memberName)', but it is \(simulation.name(of: index))"
            } else {
                return
            }
        } else {
            problem = "an identity the authority never admitted"
        }
        let key = "\(observer)/\(member)/\(address)/\(memberName)"
        guard reported.insert(key).inserted, violations.count < violationsKept else { return }
        violations.append(Violation(
            time: time, check: name,
            message: "\(simulation.name(of: observer)) holds member '\(memberName)' \(member.short) at \(address): \(problem)"))
    }
}
