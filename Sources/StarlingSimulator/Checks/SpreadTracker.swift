import StarlingMembership

/// Measures how fast news spreads: for each join (a node's first start) and each crash, the time
/// until 50%, 99%, 99.99% and 100% of the other live honest nodes know it. A join is known when an
/// observer holds the node alive or suspect; a crash when it no longer does (dead, left or gone).
public final class SpreadTracker: SimulationObserver {
    public static let fractions = [0.5, 0.99, 0.9999, 1.0]

    public enum Kind: String, Sendable, Codable { case join, crash }

    public struct Spread: Sendable {
        public var kind: Kind
        public var node: Int
        public var name: String
        public var at: Instant
        /// Aligned with `fractions`: when each fraction was first reached.
        public var reached: [Instant?]
        /// Stopped before completing (the node crashed before its join spread, or restarted before
        /// its crash spread).
        public var abandoned = false
        public var complete: Bool { reached.allSatisfy { $0 != nil } }
    }

    public private(set) var spreads: [Spread] = []
    private var active: [Int] = []
    /// Joins before this are not tracked (e.g. to skip the initial cohort).
    public let joinsFrom: Instant

    public init(joinsFrom: Instant = .zero) { self.joinsFrom = joinsFrom }

    public func lifecycle(_ event: LifecycleEvent, at time: Instant, in simulation: Simulation) {
        switch event {
        case let .started(node, restart):
            guard simulation.kind(of: node) == .honest else { return }
            abandon(node, kind: .crash)
            if !restart && time >= joinsFrom { begin(.join, node, time, simulation) }
        case let .crashed(node, _):
            guard simulation.kind(of: node) == .honest else { return }
            abandon(node, kind: .join)
            begin(.crash, node, time, simulation)
        default:
            break
        }
    }

    private func begin(_ kind: Kind, _ node: Int, _ time: Instant, _ simulation: Simulation) {
        spreads.append(Spread(kind: kind, node: node, name: simulation.name(of: node), at: time,
                              reached: Array(repeating: nil, count: Self.fractions.count)))
        active.append(spreads.count - 1)
    }

    private func abandon(_ node: Int, kind: Kind) {
        active.removeAll { index in
            guard spreads[index].node == node, spreads[index].kind == kind else { return false }
            spreads[index].abandoned = true
            return true
        }
    }

    public func sample(_ sample: MembershipSample, in simulation: Simulation) {
        guard !active.isEmpty else { return }
        var knowing = [Int](repeating: 0, count: active.count)
        var population = [Int](repeating: 0, count: active.count)
        for observer in sample.observers {
            for (slot, index) in active.enumerated() where spreads[index].node != observer {
                population[slot] += 1
                let up = sample.believesUp(spreads[index].node, heldBy: observer)
                if (spreads[index].kind == .join) == up { knowing[slot] += 1 }
            }
        }
        var stillActive: [Int] = []
        for (slot, index) in active.enumerated() {
            for (f, fraction) in Self.fractions.enumerated() where spreads[index].reached[f] == nil {
                let needed = max(1, Int((fraction * Double(population[slot])).rounded(.up)))
                if population[slot] > 0 && knowing[slot] >= needed { spreads[index].reached[f] = sample.time }
            }
            if !spreads[index].complete { stillActive.append(index) }
        }
        active = stillActive
    }
}
