import StarlingMembership
import StarlingPeer
import StarlingTasks
import StarlingTrust

/// Tasks in a run, read from every live honest node's task views at each sample.
///
/// Measures, per task: the time from its submission until 50%, 99% and 100% of the live honest
/// nodes hold it, and until every one sees one valid lease (the first coordinator); per crash of a
/// lease holder (a `crash_coordinator` event or any crash): the time until every live honest node
/// sees a valid lease of a higher epoch held by a live node. Checks the line of rounds
/// (`TaskLineSafety`) at every sample, and, as liveness, that from `healAt` within `bound` every
/// live honest node holds every task with the same digest and the same line.
public final class TaskTracker: Check {
    public let name = "tasks"
    public static let fractions = [0.5, 0.99, 1.0]

    public struct Failover: Sendable {
        public enum Outcome: String, Sendable, Codable {
            /// Every live honest node sees a valid lease of a higher epoch held by a live node.
            case replaced
            /// Not yet, at the end of the run.
            case pending
            /// The crashed holder came back first.
            case restarted
            /// The task completed, failed or was cancelled everywhere: no new lease is due.
            case ended
        }

        /// `crash_coordinator` or `crash`.
        public var cause: String
        public var node: Int
        public var nodeName: String
        public var at: Instant
        /// The highest epoch the crashed node held a lease of, in a live node's view.
        public var epoch: UInt64
        /// The first sample where some live honest node saw a replacement, and the first where all did.
        public var firstSeenAt: Instant?
        public var everywhereAt: Instant?
        public var newCoordinator: String?
        public var newEpoch: UInt64?
        public var outcome: Outcome = .pending
    }

    public struct Tracked: Sendable {
        public var id: TaskID
        public var name: String
        public var submittedTo: String?
        /// Nil for a task first seen in a view rather than submitted by the run.
        public var submittedAt: Instant?
        /// Aligned with `fractions`.
        public var known: [Instant?]
        public var firstLeaseAt: Instant?
        public var firstCoordinator: String?
        public var failovers: [Failover] = []
        /// As the live honest nodes held it at the last sample (distinct phases joined by `/`;
        /// counts are the largest any node held).
        public var phase = "unknown"
        public var rounds: UInt64 = 0
        public var roundsCommitted = 0
        /// What the commits of a task with no round limit are: deployments, or a job's steps.
        public var commitsAre = "deployed"

        public var superseded = 0
        public var stale = 0
        public var coordinator: String?
        public var epoch: UInt64?
    }

    public let healAt: Instant
    public let bound: Duration
    public private(set) var tasks: [Tracked] = []
    public private(set) var violations: [Violation] = []
    /// Problems found, counting the repeats of one (check, node, task) that are reported once.
    public private(set) var problemCount = 0
    /// When every live honest node was first seen holding every task alike, after the heal.
    public private(set) var convergedAt: Instant?
    public private(set) var deadline: Instant

    private var index: [TaskID: Int] = [:]
    private var safety = TaskLineSafety()
    private var reported: Set<String> = []
    private var failedDeadline: Instant?
    private var crashCauses: [Int: String] = [:]

    public init(healAt: Instant, bound: Duration) {
        self.healAt = healAt
        self.bound = bound
        self.deadline = healAt + bound
    }

    /// Time from the heal (or the last node event after it) to convergence.
    public var convergenceTime: Duration? { convergedAt.map { $0 - (deadline - bound) } }

    // MARK: What the run tells

    /// The run submitted a task to `node` at `time`.
    public func submitted(_ id: TaskID, name: String, to node: Int, at time: Instant, in simulation: Simulation) {
        if let slot = index[id] {
            tasks[slot].submittedAt = time
            tasks[slot].submittedTo = simulation.name(of: node)
        } else {
            track(id, name: name, submittedAt: time, to: simulation.name(of: node))
        }
    }

    /// A scenario event could not do what it asked (a submission refused, no coordinator to crash).
    public func eventFailed(_ message: String, at time: Instant) {
        record(Violation(time: time, check: "task-events", message: message), key: "events \(message)")
    }

    /// The next crash of `node` is a `crash_coordinator` event's.
    public func crashingCoordinator(_ node: Int) { crashCauses[node] = "crash_coordinator" }

    /// The id of the tracked task named `name` (the latest submitted).
    public func task(named name: String) -> TaskID? { tasks.last { $0.name == name }?.id }

    /// The lease holder of `task` that the most live honest nodes see as valid (ties: the higher
    /// epoch, then the lower node index), if it is up.
    public func coordinator(of task: TaskID, in simulation: Simulation) -> (node: Int, epoch: UInt64)? {
        var votes: [Int: (count: Int, epoch: UInt64)] = [:]
        for node in liveHonest(simulation) {
            guard let summary = simulation.tasks(of: node).first(where: { $0.id == task }), summary.leaseValid,
                  let holder = summary.coordinator, let index = simulation.index(of: holder), simulation.isUp(index) else { continue }
            let vote = votes[index] ?? (0, 0)
            votes[index] = (vote.count + 1, max(vote.epoch, summary.epoch ?? 0))
        }
        return votes.max { a, b in
            (a.value.count, a.value.epoch, -a.key) < (b.value.count, b.value.epoch, -b.key)
        }.map { ($0.key, $0.value.epoch) }
    }

    // MARK: Observer

    public func lifecycle(_ event: LifecycleEvent, at time: Instant, in simulation: Simulation) {
        switch event {
        case let .crashed(node, _):
            let cause = crashCauses.removeValue(forKey: node) ?? "crash"
            safety.restarted(node)
            guard simulation.kind(of: node) == .honest, let identity = simulation.identity(of: node), !tasks.isEmpty else { break }
            let views = liveHonest(simulation).map { simulation.tasks(of: $0) }
            for slot in tasks.indices {
                let id = tasks[slot].id
                var held: UInt64?
                for view in views {
                    guard let summary = view.first(where: { $0.id == id }), summary.phase == "running",
                          summary.coordinator == identity, summary.leaseValid, let epoch = summary.epoch else { continue }
                    held = max(held ?? 0, epoch)
                }
                guard let held else { continue }
                tasks[slot].failovers.append(Failover(cause: cause, node: node, nodeName: simulation.name(of: node), at: time, epoch: held))
            }
        case let .started(node, restart):
            safety.restarted(node)
            guard restart else { break }
            for slot in tasks.indices {
                for f in tasks[slot].failovers.indices
                where tasks[slot].failovers[f].node == node && tasks[slot].failovers[f].outcome == .pending {
                    tasks[slot].failovers[f].outcome = .restarted
                }
            }
        default:
            break
        }
        switch event {
        case .networkChanged, .revoked: return
        default: break
        }
        guard time >= healAt else { return }
        convergedAt = nil
        deadline = max(deadline, time + bound)
    }

    public func sample(_ sample: MembershipSample, in simulation: Simulation) {
        let views = sample.observers.map { node in
            TaskLineSafety.NodeView(
                node: node, name: simulation.name(of: node),
                tasks: Dictionary(simulation.tasks(of: node).map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first }))
        }
        for view in views {
            for (id, summary) in view.tasks where index[id] == nil {
                track(id, name: summary.name, submittedAt: nil, to: nil)
            }
        }
        guard !tasks.isEmpty else { return }
        for slot in tasks.indices { measure(slot, views, sample.time, simulation) }
        for problem in safety.check(views, tasks: tasks.map(\.id)) {
            record(Violation(time: sample.time, check: problem.check, message: problem.message),
                   key: "\(problem.check) \(problem.node) \(problem.task)")
        }
        checkConvergence(views, sample.time)
    }

    public func finish(at time: Instant, in simulation: Simulation) {
        guard !tasks.isEmpty, convergedAt == nil, failedDeadline != deadline, time >= healAt else { return }
        record(Violation(time: time, check: "task-convergence",
                         message: "the run ended at \(formatDecimal(time.seconds, places: 3))s before every live node held every task alike "
                            + "(due by \(formatDecimal(deadline.seconds, places: 3))s)"), key: "convergence end")
    }

    // MARK: Measuring

    private func track(_ id: TaskID, name: String, submittedAt: Instant?, to node: String?) {
        index[id] = tasks.count
        tasks.append(Tracked(id: id, name: name, submittedTo: node, submittedAt: submittedAt,
                             known: Array(repeating: nil, count: Self.fractions.count)))
    }

    private func measure(_ slot: Int, _ views: [TaskLineSafety.NodeView], _ time: Instant, _ simulation: Simulation) {
        let id = tasks[slot].id
        let summaries = views.compactMap { $0.tasks[id] }
        let population = views.count
        if tasks[slot].submittedAt != nil, population > 0 {
            for (f, fraction) in Self.fractions.enumerated() where tasks[slot].known[f] == nil {
                if summaries.count >= max(1, Int((fraction * Double(population)).rounded(.up))) { tasks[slot].known[f] = time }
            }
        }
        let everyone = summaries.count == population && population > 0
        if tasks[slot].firstLeaseAt == nil, everyone, summaries.allSatisfy(\.leaseValid),
           let holder = summaries.first?.coordinator, summaries.allSatisfy({ $0.coordinator == holder }) {
            tasks[slot].firstLeaseAt = time
            tasks[slot].firstCoordinator = summaries.first?.coordinatorName ?? simulation.index(of: holder).map { simulation.name(of: $0) }
        }
        for f in tasks[slot].failovers.indices where tasks[slot].failovers[f].outcome == .pending {
            let old = tasks[slot].failovers[f].epoch
            let replaced = summaries.filter { summary in
                guard summary.leaseValid, (summary.epoch ?? 0) > old, let holder = summary.coordinator,
                      let node = simulation.index(of: holder) else { return false }
                return simulation.isUp(node)
            }
            if tasks[slot].failovers[f].firstSeenAt == nil, !replaced.isEmpty { tasks[slot].failovers[f].firstSeenAt = time }
            if everyone, replaced.count == summaries.count {
                tasks[slot].failovers[f].everywhereAt = time
                tasks[slot].failovers[f].outcome = .replaced
                tasks[slot].failovers[f].newEpoch = replaced.first?.epoch
                tasks[slot].failovers[f].newCoordinator = replaced.first.flatMap { summary in
                    summary.coordinator.flatMap { simulation.index(of: $0) }.map { simulation.name(of: $0) }
                }
            } else if everyone, summaries.allSatisfy({ ["completed", "cancelled", "failed"].contains($0.phase) }) {
                tasks[slot].failovers[f].outcome = .ended
            }
        }
        guard !summaries.isEmpty else { return }
        var phases: [String] = []
        for summary in summaries where !phases.contains(summary.phase) { phases.append(summary.phase) }
        tasks[slot].phase = phases.sorted().joined(separator: "/")
        tasks[slot].rounds = summaries[0].rounds
        tasks[slot].commitsAre = summaries[0].job != nil ? "steps" : "deployed"
        tasks[slot].roundsCommitted = summaries.map(\.committed.count).max() ?? 0
        tasks[slot].superseded = summaries.map(\.superseded).max() ?? 0
        tasks[slot].stale = summaries.map(\.stale).max() ?? 0
        let leader = summaries.max { ($0.epoch ?? 0) < ($1.epoch ?? 0) }
        tasks[slot].epoch = leader?.epoch
        tasks[slot].coordinator = leader?.coordinator.flatMap { simulation.index(of: $0) }.map { simulation.name(of: $0) }
    }

    // MARK: Liveness

    private func checkConvergence(_ views: [TaskLineSafety.NodeView], _ time: Instant) {
        guard time >= healAt, convergedAt == nil else { return }
        let problems = differences(views, examplesMax: 3)
        if problems.isEmpty {
            convergedAt = time
        } else if time >= deadline, failedDeadline != deadline {
            failedDeadline = deadline
            record(Violation(time: time, check: "task-convergence",
                             message: "tasks not alike on every live node \(formatDuration(bound)) after the network healed "
                                + "or the last node event: " + problems.joined(separator: "; ")),
                   key: "convergence \(deadline.nanoseconds)")
        }
    }

    /// What keeps the live honest nodes from holding every task alike.
    func differences(_ views: [TaskLineSafety.NodeView], examplesMax: Int) -> [String] {
        var problems: [String] = []
        for task in tasks {
            let holders = views.filter { $0.tasks[task.id] != nil }
            if holders.count < views.count {
                let missing = views.filter { $0.tasks[task.id] == nil }
                problems.append("\(missing.count) node(s) do not hold \(task.name) (\(missing.prefix(3).map(\.name).joined(separator: ", ")))")
                continue
            }
            let summaries = holders.map { ($0, $0.tasks[task.id]!) }
            if let odd = Self.minority(summaries, by: { TaskLineSafety.keys(of: $0) }) {
                problems.append("\(task.name): \(odd.nodes) hold(s) another line of rounds than the \(odd.others) other node(s) "
                    + "(\(odd.example.committed.count) committed rounds against \(odd.majority.committed.count))")
            } else if let odd = Self.minority(summaries, by: \.digest) {
                problems.append("\(task.name): \(odd.nodes) hold(s) other entries than the \(odd.others) other node(s) "
                    + "(\(odd.example.entries) entries against \(odd.majority.entries))")
            }
            if problems.count >= examplesMax { break }
        }
        return problems
    }

    /// When the summaries differ by `key`: the nodes outside the largest group (names, at most 3),
    /// how many are in it, and one summary of each side.
    static func minority<Key: Hashable>(_ summaries: [(TaskLineSafety.NodeView, TaskSummary)], by key: (TaskSummary) -> Key)
        -> (nodes: String, others: Int, example: TaskSummary, majority: TaskSummary)? {
        var groups: [Key: [Int]] = [:]
        var order: [Key] = []
        for (position, (_, summary)) in summaries.enumerated() {
            let value = key(summary)
            if groups[value] == nil { order.append(value) }
            groups[value, default: []].append(position)
        }
        guard order.count > 1, let largest = order.max(by: { groups[$0]!.count < groups[$1]!.count }) else { return nil }
        let outside = summaries.indices.filter { !groups[largest]!.contains($0) }
        let names = outside.prefix(3).map { summaries[$0].0.name }.joined(separator: ", ") + (outside.count > 3 ? ", ..." : "")
        return (names, groups[largest]!.count, summaries[outside[0]].1, summaries[groups[largest]![0]].1)
    }

    // MARK: Helpers

    private func record(_ violation: Violation, key: String) {
        problemCount += 1
        guard reported.insert(key).inserted, violations.count < violationsKept else { return }
        violations.append(violation)
    }

    private func liveHonest(_ simulation: Simulation) -> [Int] {
        (0..<simulation.nodeCount).filter { simulation.kind(of: $0) == .honest && simulation.isUp($0) }
    }
}
