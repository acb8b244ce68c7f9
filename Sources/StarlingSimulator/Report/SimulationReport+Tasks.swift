import StarlingMembership

/// One submitted task in a report: how fast it spread and got coordinators, where it ended.
/// Times are seconds after its submission (failovers: after the crash).
public struct TaskRow: Sendable, Codable {
    public var name: String
    public var id: String
    public var submittedTo: String?
    public var submittedAt: Double?
    /// 50%, 99% and 100% of the live honest nodes.
    public var fractions: [Double]
    /// Per fraction; nil when not reached.
    public var knownSeconds: [Double?]
    /// Every live honest node sees one valid lease, the same holder.
    public var firstLeaseSeconds: Double?
    public var firstCoordinator: String?
    public var failovers: [FailoverRow]
    /// At the end, as the live honest nodes held it (distinct phases joined by `/`).
    public var phase: String
    public var rounds: UInt64
    public var roundsCommitted: Int
    /// For a task with no round limit: what its commits are (`deployed`, or a job's `steps`).
    public var commitsAre: String?
    public var superseded: Int
    public var stale: Int
    public var coordinator: String?
    public var epoch: UInt64?
}

public struct FailoverRow: Sendable, Codable {
    /// `crash_coordinator` or `crash`.
    public var cause: String
    public var node: String
    public var at: Double
    public var epoch: UInt64
    /// Some live honest node / every live honest node sees a valid lease of a higher epoch held by a
    /// live node.
    public var firstSeenSeconds: Double?
    public var everywhereSeconds: Double?
    public var newCoordinator: String?
    public var newEpoch: UInt64?
    /// replaced, pending, restarted or ended.
    public var outcome: String
}

extension TaskTracker {
    /// The tracker's figures as report rows.
    public var rows: [TaskRow] {
        tasks.map { task in
            let since = { (instant: Instant?) -> Double? in
                guard let instant, let submitted = task.submittedAt else { return nil }
                return (instant - submitted).seconds
            }
            return TaskRow(
                name: task.name, id: task.id.text, submittedTo: task.submittedTo, submittedAt: task.submittedAt?.seconds,
                fractions: Self.fractions, knownSeconds: task.known.map(since), firstLeaseSeconds: since(task.firstLeaseAt),
                firstCoordinator: task.firstCoordinator,
                failovers: task.failovers.map { failover in
                    FailoverRow(
                        cause: failover.cause, node: failover.nodeName, at: failover.at.seconds, epoch: failover.epoch,
                        firstSeenSeconds: failover.firstSeenAt.map { ($0 - failover.at).seconds },
                        everywhereSeconds: failover.everywhereAt.map { ($0 - failover.at).seconds },
                        newCoordinator: failover.newCoordinator, newEpoch: failover.newEpoch, outcome: failover.outcome.rawValue)
                },
                phase: task.phase, rounds: task.rounds, roundsCommitted: task.roundsCommitted, commitsAre: task.commitsAre,
                superseded: task.superseded,
                stale: task.stale, coordinator: task.coordinator, epoch: task.epoch)
        }
    }
}

extension SimulationReport {
    /// The `tasks` section of the table (empty when the run had no task).
    var renderedTasks: [String] {
        guard !tasks.isEmpty else { return [] }
        let seconds = { (value: Double?) in value.map { formatDecimal($0, places: 3) + "s" } ?? "-" }
        var lines = ["tasks: time after submission until live nodes hold it, and until all see one valid lease"]
        var table: [[String]] = [["", "submitted", "known 50%", "99%", "100%", "first lease", "failovers", "phase", "rounds",
                                  "superseded", "stale"]]
        for task in tasks {
            let submitted = task.submittedAt.map { "\(task.submittedTo ?? "?") at \(seconds($0))" } ?? "-"
            let replaced = task.failovers.filter { $0.outcome == "replaced" }.count
            table.append(["  \(task.name)", submitted] + task.knownSeconds.map(seconds)
                + ["\(seconds(task.firstLeaseSeconds))\(task.firstCoordinator.map { " (\($0))" } ?? "")",
                   "\(replaced)/\(task.failovers.count)", task.phase, Self.rounds(task),
                   "\(task.superseded)", "\(task.stale)"])
        }
        lines += Self.aligned(table)
        for task in tasks {
            for failover in task.failovers {
                lines.append("  failover \(task.name): \(failover.cause) \(failover.node) at \(seconds(failover.at)) (epoch \(failover.epoch)): "
                    + "\(failover.outcome); new lease seen first after \(seconds(failover.firstSeenSeconds)), "
                    + "everywhere after \(seconds(failover.everywhereSeconds))"
                    + (failover.newCoordinator.map { " (\($0), epoch \(failover.newEpoch ?? 0))" } ?? ""))
            }
        }
        if let convergence = taskConvergence {
            lines.append("  alike on every live node: " + (convergence.seconds.map { "after \(seconds($0)) from the heal" } ?? "not converged")
                + " (bound \(seconds(convergence.boundSeconds)))")
        }
        lines.append("")
        return lines
    }

    /// Committed out of the task's rounds; a task with no round limit shows its commits alone (a
    /// JointInferenceService's line holds deployments, an IncrementalLearningJob's its steps).
    static func rounds(_ task: TaskRow) -> String {
        guard task.rounds == 0 else { return "\(task.roundsCommitted)/\(task.rounds)" }
        return "\(task.roundsCommitted) \(task.commitsAre ?? "deployed")"
    }

    static func aligned(_ rows: [[String]]) -> [String] {
        guard let columns = rows.map(\.count).max() else { return [] }
        var widths = [Int](repeating: 0, count: columns)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
            }.joined(separator: "  ")
        }
    }
}
