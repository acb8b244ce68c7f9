import StarlingCrypto
import StarlingMembership
import StarlingTasks
import StarlingTrust

/// The FederatedTask program: rounds of training across the peers that hold the data
/// (docs/tasks.md, "Rounds"). As coordinator:
///
/// 1. announce round r: the base model (the last commit's), the participants, a deadline;
/// 2. as each participant reports an update, ask the driver to fetch it and fold it into the
///    round's aggregation (`FederatedWork.collect`): updates stream in, none waits for the others;
/// 3. once `minNodeNumber` updates are folded in, ask for the aggregation (`FederatedWork.aggregate`);
///    at the deadline with fewer, announce the round again with a new deadline (updates already
///    folded stay, so a slow participant only delays the round, never blocks it), at most
///    `round_retries` times; after that the task fails with the reason (`TaskFailure`);
/// 4. commit the aggregated model (the host replicates it to the next candidates first).
///
/// As participant (`FederatedProgram+Participant`): train each worker placed on this peer once
/// per announced round, and report.
enum FederatedProgram: TaskProgram {
    typealias Spec = FederatedTaskSpec
    typealias WorkResult = FederatedWorkResult

    struct Local: Sendable {
        /// Coordinator: the round being collected and aggregated.
        var round: RoundProgress?
        /// Participant: the round each local worker was last asked to train.
        var training: [String: RoundKey] = [:]
        /// Coordinator: the imported starting model asked held before round 1 is announced, and
        /// when (asked again after `TaskSettings.startingModelRetry` while it has not arrived).
        var startingModel: StartingModelAsk?
        /// Coordinator: peers declare different contents for the starting model (logged once).
        var startingModelConflict = false
    }

    struct RoundKey: Hashable, Sendable {
        let epoch: UInt64
        let round: UInt64
    }

    struct StartingModelAsk: Sendable {
        let model: ContentHash
        let askedAt: Instant
    }

    struct RoundProgress: Sendable {
        let key: RoundKey
        let base: ContentHash
        /// Workers whose update was asked for, folded in, or rejected (with why).
        var requested: Set<String> = []
        var folded: Set<String> = []
        var rejected: [String: String] = [:]
        /// The aggregation was asked for; the round waits for its answer.
        var aggregating = false
    }

    static func spec(of spec: TaskSpec) -> Spec? { spec.federatedTask }
    static func held(_ local: Local) -> ProgramLocal { .federated(local) }
    static func local(_ held: ProgramLocal?) -> Local {
        if case let .federated(local)? = held { return local }
        return Local()
    }

    static func coordinate(_ task: ProgramTask<Spec>, host: some TaskHost, local: inout Local) -> [ProgramEffect] {
        guard let lease = task.lease, let view = task.view.federated else { return [] }
        precondition(lease.holder == host.me, "coordinate is called only on the lease holder")
        var effects: [ProgramEffect] = []
        let settings = task.spec.rounds
        let last = view.lastCommitted
        let lastRound = last?.round ?? 0
        if lastRound >= UInt64(settings.rounds) {
            if task.view.completion == nil, let last {
                effects.append(.sign(.complete(last.ref), log: (.notice, "task \(task.name) (\(task.id.short)) completed after round \(lastRound)")))
            }
            return effects
        }
        let round = lastRound + 1
        var base = last?.modelHash ?? ModelHash.none
        guard let announced = view.announcement, announced.epoch == lease.epoch, announced.round == round else {
            if last == nil {
                switch startingModel(task, host: host, local: &local, effects: &effects) {
                case .seed: break
                case .waiting: return effects
                case let .held(model): base = model
                }
            }
            announce(task, host: host, round: round, base: base, epoch: lease.epoch, effects: &effects)
            return effects
        }
        let key = RoundKey(epoch: lease.epoch, round: round)
        var progress = local.round.flatMap { $0.key == key ? $0 : nil } ?? RoundProgress(key: key, base: announced.baseModel)
        defer { local.round = progress }
        guard !progress.aggregating else { return effects }
        collectUpdates(task, view: view, announced: announced, progress: &progress, host: host, effects: &effects)
        // Never fewer than min_node_number: not even when fewer workers can be placed now (a peer
        // restarted alone, an edge offline). The round waits, is announced again, and at worst the
        // task fails saying why; it is never committed short (`FederatedEntry.problem` refuses that too).
        let needed = settings.minNodeNumber
        if progress.folded.count >= needed {
            progress.aggregating = true
            var aggregate = AggregateWork(task: task.id, spec: task.state.spec, epoch: key.epoch, round: round, baseModel: progress.base)
            aggregate.evaluate = task.spec.aggregationWorker.evaluationDataset != nil && validates(round, settings)
            effects.append(.work(.federated(.aggregate(aggregate))))
            effects.append(.count("tasks.aggregations ordered"))
        } else if task.unix >= announced.deadline {
            let attempts = expiredAttempts(of: round, in: task.state, at: task.unix)
            if attempts > settings.roundRetries {
                fail(task, view: view, announced: announced, progress: progress, attempts: attempts, epoch: lease.epoch,
                     host: host, effects: &effects)
                return effects
            }
            // Too few updates by the deadline: the round is announced again with a new deadline
            // (and the participants live now); updates already folded stay.
            effects.append(.count("tasks.rounds retried"))
            effects.append(.log(.info, "task \(task.name) (\(task.id.short)): round \(round) has \(progress.folded.count) "
                + "of \(needed) updates at its deadline (attempt \(attempts) of \(settings.roundRetries + 1)); announcing it again"))
            announce(task, host: host, round: round, base: announced.baseModel, epoch: lease.epoch, effects: &effects)
        } else if announced.participants.count < needed {
            // The announcement cannot fill as it stands; once more workers can be placed (a peer
            // joined or came back), it is announced again at once, with the same deadline, so the
            // round neither waits for its deadline nor uses up an attempt.
            let placed = placeWorkers(task.id, spec: task.state.spec, federated: task.spec, host: host)
            if placed.count > announced.participants.count {
                effects.append(.count("tasks.rounds widened"))
                announce(task, host: host, round: round, base: announced.baseModel, epoch: lease.epoch,
                         deadline: announced.deadline, effects: &effects)
            }
        }
        return effects
    }

    /// Announcements of `round` (under any epoch, by any coordinator) whose deadline has passed:
    /// the attempts the round has had. One (epoch, deadline) is one attempt, however many times it
    /// was widened. Counted from the replicated entries, so a restart or a failover keeps the count.
    static func expiredAttempts(of round: UInt64, in state: TaskState, at unix: UInt64) -> Int {
        var attempts: Set<[UInt64]> = []
        for entry in state.entries {
            guard case let .announce(announced)? = entry.body.federated, announced.round == round,
                  announced.deadline <= unix else { continue }
            attempts.insert([announced.epoch, announced.deadline])
        }
        return attempts.count
    }

    /// Signs the task's failure: the round had every attempt it may have. The reason names each
    /// worker short of an update, its peer and its last error, so `task status` says what to fix.
    private static func fail(_ task: ProgramTask<Spec>, view: FederatedView, announced: RoundAnnouncement,
                             progress: RoundProgress, attempts: Int, epoch: UInt64, host: some TaskHost,
                             effects: inout [ProgramEffect]) {
        let settings = task.spec.rounds
        let placedOn = Dictionary(announced.participants.map { ($0.worker, $0.node) }, uniquingKeysWith: { first, _ in first })
        var missing: [String] = []
        for worker in task.spec.trainingWorkers where !progress.folded.contains(worker.name) {
            guard let node = placedOn[worker.name] else {
                missing.append("\(worker.name): not placed (\(worker.placement): no live peer)")
                continue
            }
            let peer = host.name(of: node) ?? node.short
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
        let failure = TaskFailure(epoch: epoch, round: announced.round, reason: Peer.clip(reason, to: TaskStateLimits.failureBytesMax))
        effects.append(.sign(.fail(failure), counter: "tasks.failed",
                             log: (.error, "task \(task.name) (\(task.id.short)) failed: \(failure.reason)")))
    }

    /// Asks the driver to fetch and fold each update reported for the round and not asked for yet.
    private static func collectUpdates(_ task: ProgramTask<Spec>, view: FederatedView, announced: RoundAnnouncement,
                                       progress: inout RoundProgress, host: some TaskHost, effects: inout [ProgramEffect]) {
        for participant in announced.participants where !progress.requested.contains(participant.worker) {
            guard let report = view.latestReports[participant.worker], report.epoch == announced.epoch,
                  report.round == announced.round, report.state == .submitted, let update = report.update,
                  let source = host.blobSource(participant.node) else { continue }
            progress.requested.insert(participant.worker)
            effects.append(.work(.federated(.collect(CollectWork(
                task: task.id, spec: task.state.spec, epoch: announced.epoch, round: announced.round, baseModel: progress.base,
                worker: participant.worker, update: update, source: source)))))
        }
    }

    private static func announce(_ task: ProgramTask<Spec>, host: some TaskHost, round: UInt64, base: ContentHash,
                                 epoch: UInt64, deadline: UInt64? = nil, effects: inout [ProgramEffect]) {
        let participants = placeWorkers(task.id, spec: task.state.spec, federated: task.spec, host: host)
        let missing = task.spec.trainingWorkers.count - participants.count
        if missing > 0 { effects.append(.count("tasks.workers not placed", by: UInt64(missing))) }
        guard !participants.isEmpty else {
            effects.append(.count("tasks.rounds without participants"))
            return
        }
        let deadline = deadline ?? task.unix + UInt64(max(1, task.spec.rounds.roundTimeout.components.seconds))
        let announcement = RoundAnnouncement(epoch: epoch, round: round, baseModel: base, participants: participants,
                                             deadline: deadline)
        // The participants get it (and the commit it follows) at once; the others by gossip.
        effects.append(.sign(.announce(announcement), along: host.lastCommitEntry(of: task.id).map { [$0] } ?? [],
                             pushTo: participants.map(\.node), counter: "tasks.rounds announced"))
    }

    /// Whether `round` validates: every `roundsBetweenValidations`, and the last round.
    static func validates(_ round: UInt64, _ settings: RoundSettings) -> Bool {
        round % UInt64(max(1, settings.roundsBetweenValidations)) == 0 || round == UInt64(settings.rounds)
    }

    /// One number per task, the same on every peer: workers seed their first model with it.
    static func seed(of id: TaskID) -> UInt64 {
        id.hash.bytes.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }
}
