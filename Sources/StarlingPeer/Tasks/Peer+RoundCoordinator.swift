import StarlingCrypto
import StarlingMembership
import StarlingTasks
import StarlingTrust

/// The coordinator's side of a federated round (docs/tasks.md, "Rounds"):
///
/// 1. announce round r: the base model (the last commit's), the participants, a deadline;
/// 2. as each participant reports an update, order the driver to fetch it and fold it into the
///    round's aggregation (`TaskWork.collect`): updates stream in, none waits for the others;
/// 3. once `minNodeNumber` updates are folded in, order the aggregation (`TaskWork.aggregate`);
///    at the deadline with fewer, announce the round again with a new deadline (updates already
///    folded stay, so a slow participant only delays the round, never blocks it), at most
///    `round_retries` times; after that the task fails with the reason (`TaskFailure`);
/// 4. commit the aggregated model after the next candidates hold it (`Peer+CommitReplication`).
extension Peer {
    mutating func coordinate(_ id: TaskID, state: TaskState, view: TaskView, lease: Lease, unix: UInt64,
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
        var base = last?.modelHash ?? ModelHash.none
        guard let announced = view.announcement, announced.epoch == lease.epoch, announced.round == round else {
            if last == nil {
                switch startingModel(id, federated: federated, now: now, outputs: &outputs) {
                case .seed: break
                case .waiting: return
                case let .held(model): base = model
                }
            }
            announce(id, federated: federated, round: round, base: base, epoch: lease.epoch, unix: unix, outputs: &outputs)
            return
        }
        let key = TaskBook.RoundKey(epoch: lease.epoch, round: round)
        var progress = taskBook.rounds[id].flatMap { $0.key == key ? $0 : nil }
            ?? TaskBook.RoundProgress(key: key, base: announced.baseModel)
        defer { taskBook.rounds[id] = progress }
        guard !progress.aggregating else { return }
        collectUpdates(id, spec: state.spec, view: view, announced: announced, progress: &progress, outputs: &outputs)
        // Never fewer than min_node_number: not even when fewer workers can be placed now (a peer
        // restarted alone, an edge offline). The round waits, is announced again, and at worst the
        // task fails saying why; it is never committed short (`TaskEntry.problem` refuses that too).
        let needed = settings.minNodeNumber
        if progress.folded.count >= needed {
            progress.aggregating = true
            taskBook.engaged.insert(id)
            var order = AggregateOrder(task: id, spec: state.spec, epoch: key.epoch, round: round, baseModel: progress.base)
            order.evaluate = federated.aggregationWorker.evaluationDataset != nil && Self.validates(round, settings)
            outputs.append(.work(.aggregate(order)))
            count("tasks.aggregations ordered")
        } else if unix >= announced.deadline {
            let attempts = Self.expiredAttempts(of: round, in: state, at: unix)
            if attempts > settings.roundRetries {
                fail(id, state: state, view: view, announced: announced, progress: progress, attempts: attempts,
                     epoch: lease.epoch, outputs: &outputs)
                return
            }
            // Too few updates by the deadline: the round is announced again with a new deadline
            // (and the participants live now); updates already folded stay.
            count("tasks.rounds retried")
            outputs.append(.log(.info, "task \(state.spec.name) (\(id.short)): round \(round) has \(progress.folded.count) "
                + "of \(needed) updates at its deadline (attempt \(attempts) of \(settings.roundRetries + 1)); announcing it again"))
            announce(id, federated: federated, round: round, base: announced.baseModel, epoch: lease.epoch, unix: unix,
                     outputs: &outputs)
        } else if announced.participants.count < needed {
            // The announcement cannot fill as it stands; once more workers can be placed (a peer
            // joined or came back), it is announced again at once, with the same deadline, so the
            // round neither waits for its deadline nor uses up an attempt.
            let placed = placeWorkers(id, federated: federated)
            if placed.count > announced.participants.count {
                count("tasks.rounds widened")
                announce(id, federated: federated, round: round, base: announced.baseModel, epoch: lease.epoch, unix: unix,
                         deadline: announced.deadline, outputs: &outputs)
            }
        }
    }

    enum StartingModel {
        /// Round 1 starts from `STARLING_SEED`: the task names no model, or no live peer declares it.
        case seed
        /// Not yet: the model is being fetched here, or peers declare different contents for it.
        case waiting
        case held(ContentHash)
    }

    /// Round 1's base: the model `aggregationWorker.model.name` names when live peers declare it
    /// imported (`ModelTags`), once this coordinator holds it (ordered held from its declarers,
    /// asked again every `startingModelRetry`). Peers declaring different contents under the name
    /// hold the round back, logged once, until they agree.
    mutating func startingModel(_ id: TaskID, federated: FederatedTaskSpec, now: Instant,
                                outputs: inout [PeerOutput]) -> StartingModel {
        guard let modelName = federated.aggregationWorker.model?.name, !modelName.isEmpty else { return .seed }
        let declarers = ModelTags.declarers(of: modelName, among: aliveNodes.map { (peer: $0, tags: tags(of: $0)) })
        guard declarers.count <= 1 else {
            if taskBook.startingModelConflicts.insert(id).inserted {
                count("tasks.starting model conflicts")
                let who = declarers.sorted { $0.key < $1.key }.map { hash, nodes in
                    "\(hash.hex.prefix(12)) by \(nodes.map { name(of: $0) ?? $0.short }.sorted().joined(separator: ", "))"
                }
                outputs.append(.log(.error, "task \(taskBook.states[id]?.spec.name ?? id.short) (\(id.short)): peers declare "
                    + "different models named \(modelName) (\(who.joined(separator: "; "))): round 1 waits until they agree "
                    + "(starling model import or model remove on those peers)"))
            }
            return .waiting
        }
        taskBook.startingModelConflicts.remove(id)
        guard let (model, holders) = declarers.first else { return .seed }
        if taskBook.holdsModel(model) { return .held(model) }
        if let asked = taskBook.startingModels[id], asked.model == model, now - asked.askedAt < taskSettings.startingModelRetry {
            return .waiting
        }
        taskBook.startingModels[id] = (model, now)
        taskBook.engaged.insert(id)
        count("tasks.starting models ordered")
        outputs.append(.work(.holdModel(task: id, round: 0, model: model, sources: holders.sorted().compactMap(blobSource))))
        return .waiting
    }

    /// Announcements of `round` (under any epoch, by any coordinator) whose deadline has passed:
    /// the attempts the round has had. One (epoch, deadline) is one attempt, however many times it
    /// was widened. Counted from the replicated entries, so a restart or a failover keeps the count.
    static func expiredAttempts(of round: UInt64, in state: TaskState, at unix: UInt64) -> Int {
        var attempts: Set<[UInt64]> = []
        for entry in state.entries {
            guard case let .announce(announced) = entry.body, announced.round == round, announced.deadline <= unix else { continue }
            attempts.insert([announced.epoch, announced.deadline])
        }
        return attempts.count
    }

    /// Signs the task's failure: the round had every attempt it may have. The reason names each
    /// worker short of an update, its peer and its last error, so `task status` says what to fix.
    private mutating func fail(_ id: TaskID, state: TaskState, view: TaskView, announced: RoundAnnouncement,
                               progress: TaskBook.RoundProgress, attempts: Int, epoch: UInt64, outputs: inout [PeerOutput]) {
        guard let federated = state.spec.federatedTask else { return }
        let settings = federated.rounds
        let placedOn = Dictionary(announced.participants.map { ($0.worker, $0.node) }, uniquingKeysWith: { first, _ in first })
        var missing: [String] = []
        for worker in federated.trainingWorkers where !progress.folded.contains(worker.name) {
            guard let node = placedOn[worker.name] else {
                missing.append("\(worker.name): not placed (\(worker.placement): no live peer)")
                continue
            }
            let peer = name(of: node) ?? node.short
            var text = "\(worker.name) on \(peer): "
            if let rejection = progress.rejected[worker.name] {
                text += "update rejected: \(rejection)"
            } else if let report = view.latestReports[worker.name] {
                text += report.state == .failed || !report.message.isEmpty
                    ? "\(report.state) in round \(report.round): \(report.message)" : "no update (last report: \(report.state) in round \(report.round))"
            } else {
                text += "no report"
            }
            missing.append(text)
        }
        let reason = "round \(announced.round) had \(progress.folded.count) of the \(settings.minNodeNumber) updates it needs "
            + "(min_node_number) after \(attempts) announcements (round_retries \(settings.roundRetries)); "
            + missing.joined(separator: "; ")
        let failure = TaskFailure(epoch: epoch, round: announced.round, reason: Self.clip(reason, to: TaskStateLimits.failureBytesMax))
        if sign(.fail(failure), task: id, outputs: &outputs) == .added {
            count("tasks.failed")
            outputs.append(.log(.error, "task \(state.spec.name) (\(id.short)) failed: \(failure.reason)"))
        }
    }

    /// Orders the driver to fetch and fold each update reported for the round and not asked for yet.
    private mutating func collectUpdates(_ id: TaskID, spec: TaskSpec, view: TaskView, announced: RoundAnnouncement,
                                         progress: inout TaskBook.RoundProgress, outputs: inout [PeerOutput]) {
        for participant in announced.participants where !progress.requested.contains(participant.worker) {
            guard let report = view.latestReports[participant.worker], report.epoch == announced.epoch,
                  report.round == announced.round, report.state == .submitted, let update = report.update,
                  let source = blobSource(participant.node) else { continue }
            progress.requested.insert(participant.worker)
            taskBook.engaged.insert(id)
            outputs.append(.work(.collect(CollectOrder(
                task: id, spec: spec, epoch: announced.epoch, round: announced.round, baseModel: progress.base,
                worker: participant.worker, update: update, source: source))))
        }
    }

    /// Where a node's blobs can be fetched (this peer's own address for itself).
    func blobSource(_ node: NodeID) -> BlobSource? {
        if node == membership.me { return BlobSource(node: node, address: membership.address) }
        return membership.members[node].map { BlobSource(node: node, address: $0.address) }
    }

    private mutating func announce(_ id: TaskID, federated: FederatedTaskSpec, round: UInt64, base: ContentHash,
                                   epoch: UInt64, unix: UInt64, deadline: UInt64? = nil, outputs: inout [PeerOutput]) {
        let participants = placeWorkers(id, federated: federated)
        let missing = federated.trainingWorkers.count - participants.count
        if missing > 0 { peerCounters["tasks.workers not placed", default: 0] += UInt64(missing) }
        guard !participants.isEmpty else {
            count("tasks.rounds without participants")
            return
        }
        let deadline = deadline ?? unix + UInt64(max(1, federated.rounds.roundTimeout.components.seconds))
        let announcement = RoundAnnouncement(epoch: epoch, round: round, baseModel: base, participants: participants,
                                             deadline: deadline)
        // The participants get it (and the commit it follows) at once; the others by gossip.
        if signAndPush(.announce(announcement), task: id, along: lastCommitEntry(of: id).map { [$0] } ?? [],
                       to: participants.map(\.node), outputs: &outputs) == .added {
            count("tasks.rounds announced")
        }
    }

    /// Where each training worker runs this round: its `nodeName` peer when that is live, else
    /// (placement by dataset) the live placed peer holding the worker's dataset that rendezvous
    /// hashing ranks first for the worker among those not given a worker yet (so workers spread
    /// over peers while there are enough), else among all holders. A worker that cannot be placed
    /// (its node or every holder of its dataset gone) is left out of the round and counted.
    func placeWorkers(_ id: TaskID, federated: FederatedTaskSpec) -> [Participant] {
        let spec = taskBook.states[id]!.spec
        let placed = aliveNodes.filter { TaskPlacementMatcher.matches(spec, tags: tags(of: $0)).placed }
        var byName: [String: NodeID] = [:]
        for node in placed { if let name = name(of: node) { byName[name] = node } }
        var used: Set<NodeID> = []
        for worker in federated.trainingWorkers {
            if let nodeName = worker.nodeName, let node = byName[nodeName] { used.insert(node) }
        }
        let anyDeclared = placed.contains { !DatasetTags.declared(in: tags(of: $0)).isEmpty }
        return federated.trainingWorkers.compactMap { worker -> Participant? in
            if let nodeName = worker.nodeName {
                return byName[nodeName].map { Participant(worker: worker.name, node: $0) }
            }
            func score(_ node: NodeID) -> ContentHash {
                ContentHash.of(id.hash.bytes + Array(worker.name.utf8) + node.publicKey.bytes)
            }
            // A worker whose dataset no live peer declares is left out of the round (its data left
            // with its peer: the round goes on with the others). In a cluster where no peer declares
            // any dataset (the simulator), placement ignores datasets.
            let declaring = placed.filter { DatasetTags.holds(worker.dataset.name, tags: tags(of: $0)) }
            let holders = anyDeclared ? declaring : placed
            let free = holders.filter { !used.contains($0) }
            guard let best = (free.isEmpty ? holders : free).max(by: { score($0) < score($1) }) else { return nil }
            used.insert(best)
            return Participant(worker: worker.name, node: best)
        }.sorted()
    }
}
