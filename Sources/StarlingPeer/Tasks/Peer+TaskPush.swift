import StarlingCrypto
import StarlingMembership
import StarlingTasks
import StarlingTrust
import StarlingWire

/// Entries pushed straight to the peers that act on them, ahead of gossip: a participant's report
/// to the coordinator, the coordinator's announcement (with the commit it follows) to the
/// participants. Gossip still carries everything to everyone; a lost push only costs latency.
extension Peer {
    /// Sends `entries` of task `id` to `nodes` (this peer and unknown nodes are skipped), at most
    /// `pushTargetsMax` of them.
    mutating func push(_ entries: [TaskEntry], of id: TaskID, to nodes: [NodeID], effects: inout [PeerEffect]) {
        guard !entries.isEmpty else { return }
        let message = TaskEntries(id: id, spec: nil, entries: entries)
        guard let frame = try? Envelope(tag: .taskPushRequest, message: message).streamMessage() else {
            count("tasks.pushes too large")
            return
        }
        var sent: Set<NodeID> = []
        for node in nodes where node != membership.me && sent.count < taskSettings.pushTargetsMax {
            guard sent.insert(node).inserted, let address = membership.members[node]?.address else { continue }
            sendRequest(.taskPush(id), frame, to: address, timeout: taskSettings.pullTimeout, into: &effects)
            count("tasks.pushes sent")
        }
    }

    /// Merges pushed entries of a task this peer holds (a task it does not hold arrives by gossip,
    /// with its spec).
    mutating func answerPush(_ body: [UInt8], now: Instant, effects: inout [PeerEffect]) -> [UInt8] {
        guard let push = try? TaskEntries(wireBytes: body) else {
            count("dropped.task push malformed")
            return []
        }
        learnCertificates(push.certificates, now: now)
        if taskBook.states[push.id] != nil {
            merge(push.entries, into: push.id, effects: &effects)
            count("tasks.pushes received")
        } else {
            count("tasks.pushes for unknown tasks")
        }
        return (try? Envelope(tag: .taskPushResponse, body: []).streamMessage()) ?? []
    }

    /// Signs an entry as this peer, merges it, and when it was new pushes it (after `along`) to `nodes`.
    @discardableResult
    mutating func signAndPush(_ body: TaskEntryBody, task id: TaskID, along: [TaskEntry] = [], to nodes: [NodeID],
                              effects: inout [PeerEffect]) -> MergeOutcome {
        precondition(taskBook.states[id] != nil, "entries are signed only for tasks this peer holds")
        let entry = TaskEntry.sign(body, task: id, with: membership.identity)
        let outcome = merge([entry], into: id, effects: &effects)
        if outcome == .added { push(along + [entry], of: id, to: nodes, effects: &effects) }
        return outcome
    }

    /// The signed commit entry of the task's last committed round, if held.
    func lastCommitEntry(of id: TaskID) -> TaskEntry? {
        guard let state = taskBook.states[id], let last = state.view.lastCommitted else { return nil }
        return state.entries.first { $0.hash == last.entry }
    }
}
