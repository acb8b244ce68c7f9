import StarlingMembership

/// Crash detection per observer: for each crash, the time until each honest node that was live
/// at the crash stops holding the crashed node alive or suspect. With a `bound`, an observer that
/// stayed connected and has not detected the crash `bound` after it is a violation (crashes during
/// a partition are exempt).
public final class DetectionTracker: Check {
    public let name = "crash-detection"
    public let bound: Duration?
    public private(set) var violations: [Violation] = []
    /// Every detection delay measured, in seconds.
    public private(set) var delays: [Double] = []
    /// (crash, observer) pairs still undetected when the run ended (observer still live, crashed
    /// node not restarted).
    public private(set) var undetected = 0

    private struct Crash {
        var node: Int
        var at: Instant
        var pending: [Int]
        var partitioned: Bool
        var checked = false
    }

    private var crashes: [Crash] = []

    public init(bound: Duration?) { self.bound = bound }

    public func lifecycle(_ event: LifecycleEvent, at time: Instant, in simulation: Simulation) {
        switch event {
        case let .crashed(node, _):
            for index in crashes.indices { crashes[index].pending.removeAll { $0 == node } }
            guard simulation.kind(of: node) == .honest else { return }
            let observers = (0..<simulation.nodeCount).filter {
                $0 != node && simulation.kind(of: $0) == .honest && simulation.isUp($0)
            }
            crashes.append(Crash(node: node, at: time, pending: observers, partitioned: !simulation.partitions.isEmpty))
        case let .started(node, _):
            crashes.removeAll { $0.node == node }
        case let .left(node):
            for index in crashes.indices { crashes[index].pending.removeAll { $0 == node } }
        case .networkChanged:
            if !simulation.partitions.isEmpty {
                for index in crashes.indices where !crashes[index].pending.isEmpty { crashes[index].partitioned = true }
            }
        default:
            break
        }
    }

    public func sample(_ sample: MembershipSample, in simulation: Simulation) {
        guard crashes.contains(where: { !$0.pending.isEmpty }) else { return }
        let observing = Set(sample.observers)
        for index in crashes.indices where !crashes[index].pending.isEmpty {
            let node = crashes[index].node, crashedAt = crashes[index].at
            var detected: [Double] = []
            crashes[index].pending.removeAll { observer in
                guard observing.contains(observer), !sample.believesUp(node, heldBy: observer) else { return false }
                detected.append((sample.time - crashedAt).seconds)
                return true
            }
            delays += detected
            if let bound, !crashes[index].checked, !crashes[index].partitioned, sample.time - crashes[index].at >= bound {
                crashes[index].checked = true
                let late = crashes[index].pending.filter { observer in
                    simulation.connectedSince(observer).map { $0 <= crashes[index].at } ?? false
                }
                if !late.isEmpty && violations.count < violationsKept {
                    let names = late.prefix(5).map { simulation.name(of: $0) }.joined(separator: ", ")
                    violations.append(Violation(
                        time: sample.time, check: name,
                        message: "\(late.count) connected node(s) still hold \(simulation.name(of: node)) alive or suspect "
                            + "\(formatDuration(bound)) after it crashed: \(names)\(late.count > 5 ? ", ..." : "")"))
                }
            }
        }
    }

    public func finish(at time: Instant, in simulation: Simulation) {
        undetected = crashes.reduce(0) { $0 + $1.pending.count }
    }
}
