import StarlingBlobs
import StarlingMembership
import StarlingPeer
import StarlingTasks
import StarlingTrust

/// What `starling model export TASK` writes: the task's last committed round as this peer's task
/// state knows it, never merely the latest model this peer happens to hold; and, when the peer
/// lacks that model, which peers to fetch it from.
struct ModelExportPlan {
    let task: TaskSummary
    let round: TaskSummary.Round
    /// Live peers that may hold the model, the surest first (`BlobService.fetch` asks its first
    /// source last for each chunk, as the fallback): the commit's coordinator, the coordinator
    /// candidates that acknowledged holding it (`replicated`), then the announced round's
    /// participants, which fetch it as their base model.
    let sources: [BlobSource]
    /// The same peers by name, for messages.
    let sourceNames: [String]
    /// Peers that would be sources but are not alive (or unknown), by name.
    let unreachable: [String]

    /// Fails when the task has no model to export yet.
    init(task: TaskSummary, members: [MemberView]) throws(RuntimeError) {
        guard let round = task.committed.last else {
            throw RuntimeError("task \(task.name) has committed no round yet (it is \(task.phase)); there is no model to export")
        }
        guard round.modelHash != ModelHash.none else {
            throw RuntimeError("round \(round.round) of task \(task.name) carries no model")
        }
        self.task = task
        self.round = round
        let byNode = Dictionary(members.map { ($0.node, $0) }) { first, _ in first }
        var candidates: [NodeID] = [round.coordinator] + round.replicatedBy
        // Participants of a round announced after this commit train from it: they hold it.
        if task.announcedRound.map({ $0 > round.round }) == true { candidates += task.participants.map(\.node) }
        var sources: [BlobSource] = [], names: [String] = [], unreachable: [String] = []
        var seen = Set<NodeID>()
        for node in candidates where seen.insert(node).inserted {
            guard let member = byNode[node] else {
                unreachable.append(node.short)
                continue
            }
            if member.isLocal { continue }
            guard member.state == .alive || member.state == .suspect else {
                unreachable.append("\(member.name) (\(member.state))")
                continue
            }
            sources.append(BlobSource(node: node, address: member.address))
            names.append(member.name)
        }
        self.sources = Array(sources.prefix(BlobLimits.sourcesMax))
        sourceNames = Array(names.prefix(BlobLimits.sourcesMax))
        self.unreachable = unreachable
    }

    /// "round 3 of 10 (the task is still running)": which round, and whether more will follow.
    var progress: String {
        let of = task.rounds > 0 ? "round \(round.round) of \(task.rounds)" : "round \(round.round)"
        switch task.phase {
        case "completed": return "\(of), the last (the task completed)"
        case "cancelled": return "\(of) (the task was cancelled)"
        default: return "\(of) (the task is still running: later rounds will follow)"
        }
    }

    /// The refusal when this peer cannot get the model: which round it holds, which one the task
    /// committed, and why.
    func unavailable(heldRound: UInt64?, because reason: String) -> String {
        let held = heldRound.map { "this peer holds round \($0) of task \(task.name)" } ?? "this peer holds no model of task \(task.name)"
        return "\(held), but the task committed \(progress) with model \(round.modelHash.hex.prefix(16)), "
            + "which is not here: \(reason)"
    }

    /// Why there is nobody to fetch from.
    var noSourceReason: String {
        "no live peer is known to hold it"
            + (unreachable.isEmpty ? "" : " (not reachable: \(unreachable.joined(separator: ", ")))")
    }
}
