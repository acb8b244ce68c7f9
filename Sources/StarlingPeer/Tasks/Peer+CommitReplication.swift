import StarlingCrypto
import StarlingMembership
import StarlingTasks
import StarlingTrust
import StarlingWire

/// A commit is spread only after the next candidates hold it and its model: the coordinator pushes
/// the signed commit to `replicateTo` of them; each fetches the model first (answering "not yet",
/// and asked again every `replicateRetry`), then merges the commit and answers with a signed
/// `replicated` entry. So a coordinator that dies right after a commit is announced leaves a
/// successor holding both the commit and the model it names.
extension Peer {
    mutating func startCommit(_ id: TaskID, commit: ProgramEntry, log: String, now: Instant, effects: inout [PeerEffect]) {
        guard let state = taskBook.states[id], let ref = commit.lineCommit else {
            preconditionFailure("only a held task's line commits are replicated")
        }
        let lease = state.view.currentLease
        precondition(lease?.holder == membership.me && lease?.epoch == ref.epoch,
                     "a commit is signed only by the lease holder, under its lease's epoch")
        precondition(!state.view.committedRounds.contains { $0.round == ref.round && $0.epoch == ref.epoch },
                     "a round is committed once under an epoch")
        let entry = TaskEntry.sign(.program(commit), task: id, with: membership.identity)
        let successors = CoordinatorElection.rank(task: id, candidates: candidates(for: state.spec))
            .filter { $0 != membership.me }.prefix(taskSettings.replicateTo)
            .compactMap { membership.members[$0]?.address }
        taskBook.replicating[id] = TaskBook.PendingCommit(commit: entry, log: log, outstanding: [:], retryAt: now,
                                                          deadline: now + taskSettings.replicateTimeout)
        for address in successors { pushCommit(id, to: address, effects: &effects) }
        if taskBook.replicating[id]?.outstanding.isEmpty == true { finishCommit(id, effects: &effects) }
    }

    /// Sends the pending commit (with everything else the candidate may lack, the lease above all).
    private mutating func pushCommit(_ id: TaskID, to address: PeerAddress, effects: inout [PeerEffect]) {
        guard var pending = taskBook.replicating[id], let state = taskBook.states[id] else { return }
        let push = TaskEntries(id: id, spec: state.signedSpec, entries: state.entries + [pending.commit],
                               certificates: certificates(for: state, entries: state.entries))
        guard let frame = try? Envelope(tag: .taskReplicateRequest, message: push).streamMessage() else {
            count("tasks.replications too large")
            return
        }
        let exchange = sendRequest(.taskReplicate(id), frame, to: address, timeout: taskSettings.replicateTimeout,
                                   into: &effects)
        pending.outstanding[exchange] = address
        taskBook.replicating[id] = pending
    }

    /// A candidate holds the pushed state: it merges it and answers with its signed `replicated`.
    /// While it does not hold the committed model yet, it asks its driver to fetch the model and answers with
    /// no entries ("not yet").
    mutating func answerReplicate(_ body: [UInt8], now: Instant, effects: inout [PeerEffect]) -> [UInt8] {
        guard let push = try? TaskEntries(wireBytes: body), let last = push.entries.last,
              let commit = last.body.program?.lineCommit else {
            count("dropped.task replicate malformed")
            return []
        }
        learnCertificates(push.certificates, now: now)
        guard adopt(push, effects: &effects) else { return [] }
        if commit.modelHash != ModelHash.none && !taskBook.holdsModel(commit.modelHash) {
            guard let source = blobSource(last.author) else { return [] }
            taskBook.engaged.insert(push.id)
            effects.append(.work(.holdModel(task: push.id, round: commit.round, model: commit.modelHash, sources: [source])))
            count("tasks.replications waiting for the model")
            return (try? Envelope(tag: .taskReplicateResponse, message: TaskEntries(id: push.id, spec: nil, entries: []))
                .streamMessage()) ?? []
        }
        merge(push.entries, into: push.id, effects: &effects)
        guard taskBook.states[push.id]?.contains(last.hash) == true else { return [] }
        let ack = TaskEntry.sign(.replicated(commit), task: push.id, with: membership.identity)
        merge([ack], into: push.id, effects: &effects)
        count("tasks.commits replicated here")
        return (try? Envelope(tag: .taskReplicateResponse, message: TaskEntries(id: push.id, spec: nil, entries: [ack]))
            .streamMessage()) ?? []
    }

    mutating func completeReplicate(_ id: TaskID, exchange: UInt64, _ result: Result<[UInt8], ExchangeFailure>,
                                    now: Instant, effects: inout [PeerEffect]) {
        guard var pending = taskBook.replicating[id], let address = pending.outstanding.removeValue(forKey: exchange) else { return }
        if case let .success(bytes) = result, let envelope = try? Envelope(streamMessage: bytes),
           envelope.tag == .taskReplicateResponse, let answer = try? TaskEntries(wireBytes: envelope.body), answer.id == id {
            if answer.entries.isEmpty {
                pending.retry.append(address)
                pending.retryAt = now + taskSettings.replicateRetry
                effects.append(.setTimer(Self.replicationTimer, at: pending.retryAt))
            } else {
                merge(answer.entries, into: id, effects: &effects)
            }
        } else {
            count("tasks.replications failed")
        }
        taskBook.replicating[id] = pending
        if pending.outstanding.isEmpty && pending.retry.isEmpty { finishCommit(id, effects: &effects) }
    }

    /// Each tick and at `retryAt`: commits past their deadline are spread anyway; candidates that
    /// answered "not yet" are asked again.
    mutating func expireReplications(now: Instant, effects: inout [PeerEffect]) {
        for (id, pending) in taskBook.replicating {
            if now >= pending.deadline {
                count("tasks.replications timed out")
                finishCommit(id, effects: &effects)
            } else if !pending.retry.isEmpty && now >= pending.retryAt {
                var again = pending
                again.retry = []
                taskBook.replicating[id] = again
                for address in pending.retry { pushCommit(id, to: address, effects: &effects) }
            }
        }
    }

    private mutating func finishCommit(_ id: TaskID, effects: inout [PeerEffect]) {
        guard let pending = taskBook.replicating.removeValue(forKey: id) else { return }
        if merge([pending.commit], into: id, effects: &effects) == .added {
            count("tasks.rounds committed")
            effects.append(.log(.info, pending.log))
        }
    }

    static func format(_ value: Double) -> String {
        let scaled = (value * 10_000).rounded() / 10_000
        return "\(scaled)"
    }
}
