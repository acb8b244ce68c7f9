import StarlingCrypto
import StarlingPeer
import StarlingTasks

/// The safety rules of the line of rounds, applied to one sample of every live honest node's task
/// views (docs/simulation.md, "Tasks"). Pure: `TaskTracker` feeds it the views, tests feed it
/// crafted ones.
///
/// - **line**: a node's committed rounds are 1...n, each once.
/// - **fencing**: no commit on a node's line is under an epoch above that node's current lease.
/// - **min nodes**: no commit on a node's line counts fewer participants than the task's
///   `min_node_number`.
/// - **lost commit**: a commit (round, epoch, model hash) that was on the line of every live
///   honest node at one sample is *agreed*; from then on, a node that has shown it on its line (in
///   its current life: a restart starts afresh) must keep it there. A partition side's commits
///   that never reached everyone may be superseded; agreed ones may not.
///
/// A JointInferenceService's line holds its deployments (the version is the round; no model in the
/// ref, no participants, no `min_node_number`): line, fencing and lost commit apply to it as they are.
struct TaskLineSafety {
    struct CommitKey: Hashable, Sendable, CustomStringConvertible {
        var round: UInt64
        var epoch: UInt64
        var model: ContentHash

        var description: String { "round \(round) (epoch \(epoch), model \(model.hex.prefix(8)))" }
    }

    struct Problem: Equatable {
        var node: Int
        var task: TaskID
        var check: String
        var message: String
    }

    /// One live honest node's tasks at a sample.
    struct NodeView {
        var node: Int
        var name: String
        var tasks: [TaskID: TaskSummary]
    }

    /// Per task, the commits that were on every live honest node's line at some sample.
    private(set) var agreed: [TaskID: Set<CommitKey>] = [:]
    /// Per node and task, the agreed commits the node has shown on its line in its current life.
    private var shown: [Int: [TaskID: Set<CommitKey>]] = [:]

    /// The node restarted (or lost its store): what it showed before no longer binds it.
    mutating func restarted(_ node: Int) { shown[node] = nil }

    static func keys(of summary: TaskSummary) -> [CommitKey] {
        summary.committed.map { CommitKey(round: $0.round, epoch: $0.epoch, model: $0.modelHash) }
    }

    /// Applies the rules to one sample; `tasks` are the tasks checked (in a stable order).
    mutating func check(_ views: [NodeView], tasks: [TaskID]) -> [Problem] {
        var problems: [Problem] = []
        for task in tasks {
            let holders = views.compactMap { view in view.tasks[task].map { (view, $0) } }
            let label = holders.first?.1.name ?? task.short
            var lines: [Int: Set<CommitKey>] = [:]
            for (view, summary) in holders {
                let keys = Self.keys(of: summary)
                lines[view.node] = Set(keys)
                let rounds = keys.map(\.round)
                if rounds != (0..<rounds.count).map({ UInt64($0 + 1) }) {
                    let repeated = Dictionary(grouping: rounds, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
                    problems.append(Problem(
                        node: view.node, task: task, check: "task-line",
                        message: "task \(label) at \(view.name): committed rounds \(Self.list(rounds)) are not 1...\(rounds.count) once each"
                            + (repeated.isEmpty ? "" : " (round \(repeated.map(String.init).joined(separator: ", ")) twice)")))
                }
                for commit in summary.committed where commit.participants.count < summary.minNodeNumber {
                    problems.append(Problem(
                        node: view.node, task: task, check: "task-min-nodes",
                        message: "task \(label) at \(view.name): round \(commit.round) (epoch \(commit.epoch)) was committed from "
                            + "\(commit.participants.count) updates, below min_node_number \(summary.minNodeNumber)"))
                }
                if let highest = keys.max(by: { $0.epoch < $1.epoch }), highest.epoch > (summary.epoch ?? 0) {
                    problems.append(Problem(
                        node: view.node, task: task, check: "task-fencing",
                        message: "task \(label) at \(view.name): \(highest) is committed under a higher epoch than the current lease's "
                            + (summary.epoch.map { "(\($0))" } ?? "(none)")))
                }
            }
            // Agreed: on every live honest node's line now.
            if holders.count == views.count, var common = holders.first.map({ lines[$0.0.node]! }) {
                for (view, _) in holders.dropFirst() { common.formIntersection(lines[view.node]!) }
                agreed[task, default: []].formUnion(common)
            }
            let everyone = agreed[task] ?? []
            for (view, _) in holders {
                let line = lines[view.node]!
                let before = shown[view.node]?[task] ?? []
                for lost in before.subtracting(line).sorted(by: { ($0.round, $0.epoch) < ($1.round, $1.epoch) }) {
                    problems.append(Problem(
                        node: view.node, task: task, check: "task-lost-commit",
                        message: "task \(label) at \(view.name): \(lost) was on every live node's line and is no longer on this one"))
                }
                shown[view.node, default: [:]][task] = before.union(everyone).intersection(line)
            }
            // A node that held the task and no longer does has lost everything it showed.
            for view in views where view.tasks[task] == nil {
                if let before = shown[view.node]?[task], let first = before.min(by: { $0.round < $1.round }) {
                    problems.append(Problem(
                        node: view.node, task: task, check: "task-lost-commit",
                        message: "task \(label) at \(view.name): the task is gone, with \(before.count) agreed commit(s) from \(first)"))
                    shown[view.node]?[task] = nil
                }
            }
        }
        return problems
    }

    private static func list(_ rounds: [UInt64]) -> String {
        let text = rounds.prefix(12).map(String.init).joined(separator: ",")
        return "[\(text)\(rounds.count > 12 ? ",..." : "")]"
    }
}
