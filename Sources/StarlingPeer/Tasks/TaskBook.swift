import StarlingCrypto
import StarlingMembership
import StarlingTasks
import StarlingTrust

/// The tasks a peer holds and what it is doing about them. Part of `Peer`'s state; pure.
struct TaskBook {
    var states: [TaskID: TaskState] = [:]
    /// Adverts still to piggyback, by task: how many more datagrams should carry each.
    var sendsLeft: [TaskID: Int] = [:]
    /// Tasks with a pull in flight.
    var pulling: Set<TaskID> = []
    /// When this peer first saw each task without a valid lease (for the ranked claim backoff).
    var leaderlessSince: [TaskID: Instant] = [:]
    /// Commits pushed to the next candidates and waiting for their `replicated` answers.
    var replicating: [TaskID: PendingCommit] = [:]
    /// Certificates of spec submitters and entry authors that are not (or no longer) members,
    /// verified when a task message brought them.
    var certificates: [NodeID: Certificate] = [:]
    /// Rotates the trickle of adverts over the tasks.
    var trickleCursor = 0
    /// Each task's program state (`TaskProgram.Local`), by task; dropped when the task is released.
    var programs: [TaskID: ProgramLocal] = [:]
    /// Tasks the driver was given work for (released once when they end).
    var engaged: Set<TaskID> = []
    /// Models the driver said it holds (`TaskWorkResult.modelHeld`), oldest first; a bounded cache:
    /// a model evicted here is simply asked for again, and the driver answers at once.
    var heldModels: [ContentHash] = []
    /// Tasks whose state or work changed during the current input: driven again before the input
    /// is done, so a round moves on as soon as a report, an update or a commit arrives rather than
    /// at the next tick.
    var dirty: Set<TaskID> = []

    struct PendingCommit {
        let commit: TaskEntry
        /// Logged once the commit is merged.
        let log: String
        /// Exchanges in flight, and the candidate each went to.
        var outstanding: [UInt64: PeerAddress]
        /// Candidates that answered "not yet" (still fetching the model): pushed again at `retryAt`.
        var retry: [PeerAddress] = []
        var retryAt: Instant
        let deadline: Instant
    }

    func holdsModel(_ hash: ContentHash) -> Bool { heldModels.contains(hash) }

    mutating func modelHeld(_ hash: ContentHash, max: Int) {
        guard !heldModels.contains(hash) else { return }
        heldModels.append(hash)
        if heldModels.count > max { heldModels.removeFirst(heldModels.count - max) }
    }

    /// Tasks in id order (every loop over tasks goes in this order, so runs are reproducible).
    var orderedIDs: [TaskID] { states.keys.sorted() }

    /// Resolves what a user typed: a full id, an id prefix of at least 8 characters, or a name
    /// (the most recently submitted task of that name).
    func resolve(_ reference: String) -> TaskID? {
        let text = reference.lowercased()
        if let exact = states.keys.first(where: { $0.text == text }) { return exact }
        if text.count >= 8 {
            let matches = states.keys.filter { $0.text.hasPrefix(text) }
            if matches.count == 1 { return matches[0] }
        }
        return states.values.filter { $0.spec.name == reference }
            .max { ($0.signedSpec.submittedAt, $0.id) < ($1.signedSpec.submittedAt, $1.id) }?.id
    }

    /// Marks a task changed: advertise it afresh.
    mutating func changed(_ id: TaskID, sends: Int) {
        sendsLeft[id] = sends
        dirty.insert(id)
    }

    /// Adverts to piggyback on one datagram: the ones with the most sends left first, then once per
    /// tick a trickle of the others.
    mutating func takeAdverts(max: Int) -> [TaskAdvert] {
        guard max > 0, !sendsLeft.isEmpty else { return [] }
        let chosen = sendsLeft.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(max)
        var adverts: [TaskAdvert] = []
        for (id, left) in chosen {
            guard let state = states[id] else {
                sendsLeft[id] = nil
                continue
            }
            adverts.append(TaskAdvert(id: id, digest: state.digest, entries: UInt32(clamping: state.count)))
            sendsLeft[id] = left > 1 ? left - 1 : nil
        }
        return adverts
    }

    /// Queues one more advert of the next task in turn.
    mutating func trickle() {
        let ids = orderedIDs
        guard !ids.isEmpty else { return }
        trickleCursor = (trickleCursor + 1) % ids.count
        let id = ids[trickleCursor]
        if sendsLeft[id] == nil { sendsLeft[id] = 1 }
    }
}
