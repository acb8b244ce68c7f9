import StarlingCrypto
import StarlingMembership
import StarlingTasks
import StarlingTrust
import StarlingWire

/// What a peer does for its tasks each tick: claim a lease when none stands (best candidate first,
/// the others after a ranked backoff), renew its own, and as coordinator announce rounds, commit
/// them once `minNodeNumber` participants reported (after pushing the commit to the next
/// candidates), and complete the task; as a participant, report on announced rounds.
///
/// Rounds here carry no model yet: a participant reports a round as submitted as soon as it is
/// announced. Training workers and aggregation plug in between announce and commit (issue 5).
extension Peer {
    mutating func taskTick<R: RandomNumberGenerator>(now: Instant, random: inout R, outputs: inout [PeerOutput]) {
        outputs.append(.setTimer(Self.taskTimer, at: now + taskSettings.tickInterval))
        for _ in 0..<taskSettings.trickleAdverts { taskBook.trickle() }
        expireReplications(now: now, outputs: &outputs)
        for id in taskBook.orderedIDs { drive(id, now: now, outputs: &outputs) }
    }

    /// Whether membership holds `node` as up (this peer always is).
    func isUp(_ node: NodeID) -> Bool {
        if node == membership.me { return true }
        guard let record = membership.members[node] else { return false }
        return record.state == .alive || record.state == .suspect
    }

    /// Whether a lease holder still counts as alive for its lease: up, or declared dead (not left)
    /// less than `deadHolderGrace` ago. After a partition heals, each side's dead verdicts about
    /// the other reach peers before the refutations do; without the grace, peers took over from
    /// coordinators that were alive and fenced their rounds (seen in task-partition, seed 1).
    func holderCounts(_ node: NodeID, now: Instant) -> Bool {
        if isUp(node) { return true }
        guard let record = membership.members[node], record.state == .dead else { return false }
        return now - record.stateSince < taskSettings.deadHolderGrace
    }

    /// This peer and every member membership holds alive.
    var aliveNodes: [NodeID] {
        [membership.me] + membership.members.filter { $0.value.state == .alive }.map(\.key)
    }

    func tags(of node: NodeID) -> [String: String] {
        node == membership.me ? membership.tags : membership.members[node]?.aliveClaim.tagDictionary ?? [:]
    }

    func name(of node: NodeID) -> String? {
        node == membership.me ? membership.certificate.name : membership.members[node]?.name
    }

    private mutating func drive(_ id: TaskID, now: Instant, outputs: inout [PeerOutput]) {
        guard let state = taskBook.states[id] else { return }
        let view = state.view
        guard view.phase == .pending || view.phase == .running else {
            taskBook.leaderlessSince[id] = nil
            return
        }
        let unix = unixNow(now)
        let lease = view.currentLease
        if let lease, view.isLeaseValid(at: unix, holderAlive: holderCounts(lease.holder, now: now)) {
            taskBook.leaderlessSince[id] = nil
            if lease.holder == membership.me {
                coordinate(id, state: state, view: view, lease: lease, unix: unix, now: now, outputs: &outputs)
            }
            participate(id, state: state, view: view, outputs: &outputs)
            return
        }
        claimIfMyTurn(id, state: state, view: view, unix: unix, now: now, outputs: &outputs)
    }

    // MARK: Election

    /// Candidates for a task: live members (and this peer) whose certificate allows coordinating
    /// and whose tags match the task's placement and coordinator tags. Suspects are left out: a
    /// peer others cannot reach is a poor coordinator. Link quality is this peer's measurement
    /// (`Membership.linkQuality`): it orders who tries first, never who wins a race.
    func candidates(for spec: TaskSpec) -> [CoordinatorElection.Candidate] {
        let roles = roleLookup
        return aliveNodes.compactMap { node in
            guard roles(node)?.contains(.coordinator) == true else { return nil }
            let tags = tags(of: node)
            guard TaskPlacementMatcher.matches(spec, tags: tags).mayCoordinate else { return nil }
            return CoordinatorElection.Candidate(node: node, capacity: CoordinatorElection.capacity(tags: tags),
                                                 linkQuality: membership.linkQuality(of: node))
        }
    }

    private mutating func claimIfMyTurn(_ id: TaskID, state: TaskState, view: TaskView, unix: UInt64, now: Instant,
                                        outputs: inout [PeerOutput]) {
        let since = taskBook.leaderlessSince[id] ?? now
        taskBook.leaderlessSince[id] = since
        let ranking = CoordinatorElection.rank(task: id, candidates: candidates(for: state.spec))
        guard let rank = ranking.firstIndex(of: membership.me) else { return }
        guard now - since >= taskSettings.claimBackoff.scaled(by: Double(rank)) else { return }
        let capacity = CoordinatorElection.capacity(tags: membership.tags)
        let lease = Lease(epoch: view.nextEpoch, holder: membership.me, base: view.lastCommitted?.ref,
                          expiresAt: unix + taskSettings.leaseSeconds, capacity: capacity)
        if sign(.lease(lease), task: id, outputs: &outputs) == .added {
            count("tasks.leases claimed")
            outputs.append(.log(.notice, "task \(state.spec.name) (\(id.short)): coordinating at epoch \(lease.epoch)"
                + (lease.base.map { " from \($0)" } ?? "")))
        }
        taskBook.leaderlessSince[id] = nil
    }

    // MARK: Coordinator

    private mutating func coordinate(_ id: TaskID, state: TaskState, view: TaskView, lease: Lease, unix: UInt64,
                                     now: Instant, outputs: inout [PeerOutput]) {
        if lease.expiresAt <= unix + taskSettings.leaseSeconds - taskSettings.renewEverySeconds {
            sign(.lease(lease.renewed(until: unix + taskSettings.leaseSeconds)), task: id, outputs: &outputs)
        }
        guard taskBook.replicating[id] == nil, let federated = state.spec.federatedTask else { return }
        let settings = federated.rounds
        let last = view.lastCommitted
        let lastRound = last?.round ?? 0
        if lastRound >= UInt64(settings.rounds) {
            if view.completion == nil, let last {
                sign(.complete(last.ref), task: id, outputs: &outputs)
                outputs.append(.log(.notice, "task \(state.spec.name) (\(id.short)) completed after round \(lastRound)"))
            }
            return
        }
        let round = lastRound + 1
        guard let announced = view.announcement, announced.epoch == lease.epoch, announced.round == round else {
            announce(id, federated: federated, round: round, base: last?.modelHash ?? ModelHash.none,
                     epoch: lease.epoch, unix: unix, outputs: &outputs)
            return
        }
        let workers = Set(announced.participants.map(\.worker))
        let reports = view.latestReports.values.filter {
            $0.epoch == lease.epoch && $0.round == round && $0.state == .submitted && workers.contains($0.worker)
        }
        let needed = min(settings.minNodeNumber, max(1, announced.participants.count))
        if reports.count >= needed {
            let commit = RoundCommit(epoch: lease.epoch, round: round, modelHash: announced.baseModel,
                                     participants: reports.map(\.worker).sorted(),
                                     sampleCount: reports.reduce(0) { $0 + ($1.update?.sampleCount ?? 0) }, metrics: [])
            startCommit(id, commit: commit, spec: state.spec, now: now, outputs: &outputs)
        } else if unix >= announced.deadline {
            // Too few reports by the deadline: the round is announced again with a new deadline
            // (and the participants live now), never committed short.
            count("tasks.rounds retried")
            announce(id, federated: federated, round: round, base: announced.baseModel, epoch: lease.epoch, unix: unix,
                     outputs: &outputs)
        }
    }

    private mutating func announce(_ id: TaskID, federated: FederatedTaskSpec, round: UInt64, base: ContentHash,
                                   epoch: UInt64, unix: UInt64, outputs: inout [PeerOutput]) {
        let participants = placeWorkers(id, federated: federated)
        guard !participants.isEmpty else {
            count("tasks.rounds without participants")
            return
        }
        let deadline = unix + UInt64(max(1, federated.rounds.roundTimeout.components.seconds))
        let announcement = RoundAnnouncement(epoch: epoch, round: round, baseModel: base, participants: participants,
                                             deadline: deadline)
        if sign(.announce(announcement), task: id, outputs: &outputs) == .added { count("tasks.rounds announced") }
    }

    /// Where each training worker runs this round: its `nodeName` peer when that is live, else
    /// (placement by dataset) the live placed peer that rendezvous hashing ranks first for the
    /// worker among those not given a worker yet (so workers spread over peers while there are
    /// enough), else among all. Peers do not declare datasets yet (issue 5), so "holds the
    /// dataset" is not checked yet.
    func placeWorkers(_ id: TaskID, federated: FederatedTaskSpec) -> [Participant] {
        let spec = taskBook.states[id]!.spec
        let placed = aliveNodes.filter { TaskPlacementMatcher.matches(spec, tags: tags(of: $0)).placed }
        var byName: [String: NodeID] = [:]
        for node in placed { if let name = name(of: node) { byName[name] = node } }
        var used: Set<NodeID> = []
        for worker in federated.trainingWorkers {
            if let nodeName = worker.nodeName, let node = byName[nodeName] { used.insert(node) }
        }
        return federated.trainingWorkers.compactMap { worker -> Participant? in
            if let nodeName = worker.nodeName {
                return byName[nodeName].map { Participant(worker: worker.name, node: $0) }
            }
            func score(_ node: NodeID) -> ContentHash {
                ContentHash.of(id.hash.bytes + Array(worker.name.utf8) + node.publicKey.bytes)
            }
            let free = placed.filter { !used.contains($0) }
            guard let best = (free.isEmpty ? placed : free).max(by: { score($0) < score($1) }) else { return nil }
            used.insert(best)
            return Participant(worker: worker.name, node: best)
        }.sorted()
    }

    // MARK: Commit, after replication

    /// Pushes the commit to the next candidates; it is merged and spread when they have answered
    /// (or at `replicateTimeout`), so a coordinator that dies right after a commit is announced
    /// never leaves the line without a successor that holds it.
    private mutating func startCommit(_ id: TaskID, commit: RoundCommit, spec: TaskSpec, now: Instant,
                                      outputs: inout [PeerOutput]) {
        let entry = TaskEntry.sign(.commit(commit), task: id, with: membership.identity)
        let successors = CoordinatorElection.rank(task: id, candidates: candidates(for: spec))
            .filter { $0 != membership.me }.prefix(taskSettings.replicateTo)
        var outstanding: Set<UInt64> = []
        let state = taskBook.states[id]!
        // The candidate needs the lease the commit is under, and everything else it may lack.
        let push = TaskEntries(id: id, spec: state.signedSpec, entries: state.entries + [entry],
                               certificates: certificates(for: state, entries: state.entries))
        if let frame = try? Envelope(tag: .taskReplicateRequest, message: push).streamMessage() {
            for node in successors {
                guard let address = membership.members[node]?.address else { continue }
                outstanding.insert(sendRequest(.taskReplicate(id), frame, to: address, timeout: taskSettings.replicateTimeout,
                                               into: &outputs))
            }
        }
        taskBook.replicating[id] = TaskBook.PendingCommit(commit: entry, outstanding: outstanding,
                                                          deadline: now + taskSettings.replicateTimeout)
        if outstanding.isEmpty { finishCommit(id, outputs: &outputs) }
    }

    /// A candidate holds the pushed state: it merges it and answers with its signed `replicated`.
    mutating func answerReplicate(_ body: [UInt8], now: Instant, outputs: inout [PeerOutput]) -> [UInt8] {
        guard let push = try? TaskEntries(wireBytes: body),
              case let .commit(commit)? = push.entries.last?.body else {
            count("dropped.task replicate malformed")
            return []
        }
        learnCertificates(push.certificates, now: now)
        guard adopt(push, outputs: &outputs) else { return [] }
        merge(push.entries, into: push.id, outputs: &outputs)
        guard taskBook.states[push.id]?.contains(push.entries.last!.hash) == true else { return [] }
        let ack = TaskEntry.sign(.replicated(commit.ref), task: push.id, with: membership.identity)
        merge([ack], into: push.id, outputs: &outputs)
        count("tasks.commits replicated here")
        return (try? Envelope(tag: .taskReplicateResponse, message: TaskEntries(id: push.id, spec: nil, entries: [ack]))
            .streamMessage()) ?? []
    }

    mutating func completeReplicate(_ id: TaskID, exchange: UInt64, _ result: Result<[UInt8], ExchangeFailure>,
                                    outputs: inout [PeerOutput]) {
        guard var pending = taskBook.replicating[id], pending.outstanding.remove(exchange) != nil else { return }
        taskBook.replicating[id] = pending
        if case let .success(bytes) = result, let envelope = try? Envelope(streamMessage: bytes),
           envelope.tag == .taskReplicateResponse, let answer = try? TaskEntries(wireBytes: envelope.body), answer.id == id {
            merge(answer.entries, into: id, outputs: &outputs)
        } else {
            count("tasks.replications failed")
        }
        if pending.outstanding.isEmpty { finishCommit(id, outputs: &outputs) }
    }

    private mutating func expireReplications(now: Instant, outputs: inout [PeerOutput]) {
        for (id, pending) in taskBook.replicating where now >= pending.deadline {
            count("tasks.replications timed out")
            finishCommit(id, outputs: &outputs)
        }
    }

    private mutating func finishCommit(_ id: TaskID, outputs: inout [PeerOutput]) {
        guard let pending = taskBook.replicating.removeValue(forKey: id) else { return }
        if merge([pending.commit], into: id, outputs: &outputs) == .added, case let .commit(commit) = pending.commit.body {
            count("tasks.rounds committed")
            let name = taskBook.states[id]?.spec.name ?? id.short
            outputs.append(.log(.info, "task \(name) (\(id.short)): committed round \(commit.round) at epoch \(commit.epoch)"))
        }
    }

    // MARK: Participant

    /// Reports on the current announcement for each worker this peer runs in it.
    private mutating func participate(_ id: TaskID, state: TaskState, view: TaskView, outputs: inout [PeerOutput]) {
        guard let announced = view.announcement else { return }
        for participant in announced.participants where participant.node == membership.me {
            if let report = view.latestReports[participant.worker],
               report.epoch == announced.epoch, report.round == announced.round { continue }
            let report = WorkerReport(worker: participant.worker, epoch: announced.epoch, round: announced.round,
                                      state: .submitted, message: "")
            if sign(.report(report), task: id, outputs: &outputs) == .added { count("tasks.reports sent") }
        }
    }
}
