import StarlingCrypto
import StarlingMembership
import StarlingTasks
import StarlingTrust
import StarlingWire

/// The task host: what a peer does for every task each tick, whatever its kind. Claim a lease when
/// none stands (best candidate first, the others after a ranked backoff), renew its own, and let
/// the task's program (`TaskPrograms`) act as coordinator or participant under a valid lease. A
/// task of a kind this build has no program for is held, shown and gossiped, never claimed.
extension Peer: TaskHost {
    var me: NodeID { membership.me }

    func holdsModel(_ hash: ContentHash) -> Bool { taskBook.holdsModel(hash) }

    mutating func taskTick<R: RandomNumberGenerator>(now: Instant, random: inout R, effects: inout [PeerEffect]) {
        effects.append(.setTimer(Self.taskTimer, at: now + taskSettings.tickInterval))
        for _ in 0..<taskSettings.trickleAdverts { taskBook.trickle() }
        expireReplications(now: now, effects: &effects)
        for id in taskBook.orderedIDs { drive(id, now: now, effects: &effects) }
        taskBook.dirty = []
    }

    /// Drives the tasks that changed during this input (a few passes: driving one may change it
    /// again, as a commit completing leads to the next announcement).
    mutating func driveChangedTasks(now: Instant, effects: inout [PeerEffect]) {
        for _ in 0..<taskSettings.drivePassesMax {
            guard !taskBook.dirty.isEmpty else { return }
            let ids = taskBook.dirty.sorted()
            taskBook.dirty = []
            for id in ids { drive(id, now: now, effects: &effects) }
        }
        taskBook.dirty = []
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

    mutating func drive(_ id: TaskID, now: Instant, effects: inout [PeerEffect]) {
        guard let state = taskBook.states[id] else { return }
        let view = state.view
        guard view.phase == .pending || view.phase == .running else {
            taskBook.leaderlessSince[id] = nil
            release(id, reason: "task \(view.phase)", effects: &effects)
            return
        }
        // A kind this build cannot run: another peer may (a newer version); this one stays out.
        guard TaskPrograms.supports(state.spec.kind) else { return }
        let unix = unixNow(now)
        let lease = view.currentLease
        if let lease, view.isLeaseValid(at: unix, holderAlive: holderCounts(lease.holder, now: now)) {
            taskBook.leaderlessSince[id] = nil
            let coordinating = lease.holder == membership.me
            if coordinating {
                if lease.expiresAt <= unix + taskSettings.leaseSeconds - taskSettings.renewEverySeconds {
                    sign(.lease(lease.renewed(until: unix + taskSettings.leaseSeconds)), task: id, effects: &effects)
                }
            }
            // While a commit is being replicated, the coordinator's program waits for it.
            runProgram(id, state: state, view: view, lease: lease, unix: unix, now: now,
                       coordinating: coordinating && taskBook.replicating[id] == nil, effects: &effects)
            return
        }
        claimIfMyTurn(id, state: state, view: view, unix: unix, now: now, effects: &effects)
    }

    // MARK: Election

    /// Candidates for a task: live members (and this peer) whose certificate allows coordinating
    /// and whose tags match the task's placement and coordinator tags. Suspects are left out: a
    /// peer others cannot reach is a poor coordinator. Link quality is this peer's measurement
    /// (`Membership.linkQuality`): it orders who tries first, never who wins a race.
    func candidates(for spec: TaskSpec) -> [CoordinatorElection.Candidate] {
        let roles = roleLookup
        let all = aliveNodes.compactMap { node -> CoordinatorElection.Candidate? in
            guard roles(node)?.contains(.coordinator) == true else { return nil }
            let tags = tags(of: node)
            guard TaskPlacementMatcher.matches(spec, tags: tags).mayCoordinate else { return nil }
            return CoordinatorElection.Candidate(node: node, capacity: CoordinatorElection.capacity(tags: tags),
                                                 linkQuality: membership.linkQuality(of: node))
        }
        return programCoordinators(all, spec: spec)
    }

    /// Whether this peer may claim leases: it has heard from another member, had nobody to join,
    /// or has waited `claimAloneAfter` since its start (`TaskSettings.claimAloneAfter` says why).
    func hasJoinedOrWaited(now: Instant) -> Bool {
        if membership.liveCount > 1 || !hasPeersToJoin { return true }
        guard let startedAt else { return false }
        return now - startedAt >= taskSettings.claimAloneAfter
    }

    private mutating func claimIfMyTurn(_ id: TaskID, state: TaskState, view: TaskView, unix: UInt64, now: Instant,
                                        effects: inout [PeerEffect]) {
        let since = taskBook.leaderlessSince[id] ?? now
        taskBook.leaderlessSince[id] = since
        let ranking = CoordinatorElection.rank(task: id, candidates: candidates(for: state.spec))
        guard let rank = ranking.firstIndex(of: membership.me) else { return }
        guard now - since >= taskSettings.claimBackoff.scaled(by: Double(rank)) else { return }
        guard hasJoinedOrWaited(now: now) else {
            count("tasks.claims held until joined")
            return
        }
        let capacity = CoordinatorElection.capacity(tags: membership.tags)
        let lease = Lease(epoch: view.nextEpoch, holder: membership.me, base: view.lastCommitted?.ref,
                          expiresAt: unix + taskSettings.leaseSeconds, capacity: capacity)
        if sign(.lease(lease), task: id, effects: &effects) == .added {
            count("tasks.leases claimed")
            effects.append(.log(.notice, "task \(state.spec.name) (\(id.short)): coordinating at epoch \(lease.epoch)"
                + (lease.base.map { " from \($0)" } ?? "")))
        }
        taskBook.leaderlessSince[id] = nil
    }
}

extension Peer {
    /// The latest committed model of the FederatedTask named `name`: of the tasks of that name, a
    /// completed one first, then the one with the most rounds, then the lower id (so every peer
    /// picks the same). Holders: the commit's signer and the candidates that replicated it.
    func committedModel(ofTaskNamed name: String) -> (model: ContentHash, holders: [NodeID])? {
        var best: (key: (UInt64, UInt64), id: TaskID, model: ContentHash, holders: [NodeID])?
        for (id, state) in taskBook.states where state.spec.name == name && state.spec.federatedTask != nil {
            let view = state.view
            guard let last = view.committedRounds.last, last.modelHash != ModelHash.none else { continue }
            let key: (UInt64, UInt64) = (view.completion != nil ? 1 : 0, last.round)
            if let held = best, held.key > key || (held.key == key && held.id < id) { continue }
            let holders = [last.coordinator] + (view.replicatedBy[last.ref] ?? []).filter { $0 != last.coordinator }
            best = (key, id, last.modelHash, holders)
        }
        return best.map { ($0.model, $0.holders) }
    }
}
