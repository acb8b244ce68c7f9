import StarlingMembership

/// Safety: no honest live node holds a member it could not have been legitimately introduced to:
/// an identity the authority never admitted (a forged one), a node that has never run, or a real
/// node under another address or name.
public final class LegitimateMembersCheck: Check {
    public let name = "legitimate-members"
    public private(set) var violations: [Violation] = []
    private var reported: Set<String> = []

    public init() {}

    public func sample(_ sample: MembershipSample, in simulation: Simulation) {
        for observer in sample.observers {
            guard let view = sample.views[observer], let indices = sample.indices[observer] else { continue }
            for (position, member) in view.enumerated() where !member.isLocal {
                let index = Int(indices[position])
                let problem: String?
                if index < 0 {
                    problem = "an identity the authority never admitted"
                } else if !simulation.hasStarted(index) {
                    problem = "a node that has never run"
                } else if member.address != simulation.address(of: index) {
                    problem = "at \(member.address), but \(simulation.name(of: index)) is at \(simulation.address(of: index))"
                } else if member.name != simulation.name(of: index) {
                    problem = "under the name '\(member.name)', but it is \(simulation.name(of: index))"
                } else {
                    problem = nil
                }
                guard let problem else { continue }
                let key = "\(observer)/\(member.node)/\(member.address)/\(member.name)"
                guard reported.insert(key).inserted, violations.count < violationsKept else { continue }
                violations.append(Violation(
                    time: sample.time, check: name,
                    message: "\(simulation.name(of: observer)) holds member '\(member.name)' \(member.node.short) "
                        + "(\(member.state)) at \(member.address): \(problem)"))
            }
        }
    }
}
