import StarlingCrypto
import StarlingMembership
import StarlingTasks
import StarlingTrust

extension IncrementalProgram {
    typealias Task = ProgramTask<IncrementalLearningJobSpec>

    static func coordinate(_ task: Task, host: some TaskHost, local: inout Local) -> [ProgramEffect] {
        guard let lease = task.lease, let view = task.view.incremental else { return [] }
        precondition(lease.holder == host.me, "coordinate is called only on the lease holder")
        // Rollbacks first: a user who asks for one wants it now, whatever stage runs.
        if let pending = view.pendingRollbacks.first { return [answerRollback(pending, task, view: view, lease: lease)] }
        guard let last = view.last else { return deployInitialModel(task, lease: lease, host: host, local: &local) }
        // What this coordinator remembers of earlier steps goes (a job cycles for months).
        local.stageSeen = local.stageSeen.filter { $0.key >= last.round }
        local.combined = local.combined.filter { $0.key >= last.round }
        switch last.step {
        case let .training(work): return finishTraining(work, round: last.round, cycle: last.cycle, task, view: view, lease: lease,
                                                        host: host, local: &local)
        case let .evaluating(_, work): return finishEvaluation(work, round: last.round, cycle: last.cycle, task, view: view,
                                                               lease: lease, host: host, local: &local)
        case let .deciding(evaluation): return decideDeploy(evaluation, cycle: last.cycle, task, view: view, lease: lease, local: &local)
        case .deployed, .rolledBack, .rollbackRefused, .notDeployed, .failed:
            return startTraining(task, view: view, lease: lease, host: host, local: &local)
        }
    }

    /// Commits `step` as the line's next round.
    static func commit(_ step: JobStep, cycle: UInt64, _ task: Task, lease: Lease, log: String) -> ProgramEffect {
        let round = (task.view.committedRounds.last?.round ?? 0) + 1
        let transition = JobTransition(epoch: lease.epoch, round: round, cycle: cycle, step: step, at: task.unix)
        return .commit(.incremental(.step(transition)), log: "job \(task.name) (\(task.id.short)) cycle \(cycle): \(log)")
    }

    // MARK: Version 1

    /// Version 1 is the initial model, resolved as a JointInferenceService resolves its models:
    /// imported under the name, or the latest committed model of the FederatedTask of that name.
    private static func deployInitialModel(_ task: Task, lease: Lease, host: some TaskHost, local: inout Local) -> [ProgramEffect] {
        let name = task.spec.initialModel.name
        switch ServiceModels.resolve(name, host: host) {
        case let .held(model, _):
            local.waitingFor = nil
            let version = ModelVersion(version: 1, model: model, parent: 0, cycle: 0, trainSamples: 0, evalSamples: 0, evaluation: nil)
            return [.count("jobs.versions deployed"),
                    commit(.deployed(version), cycle: 0, task, lease: lease,
                           log: "version 1 is the initial model \(name) (\(model.hex.prefix(12)))")]
        case let .unresolved(reason), let .missing(reason):
            return waiting("initial model: \(reason)", task, local: &local)
        }
    }

    // MARK: Train

    private static func startTraining(_ task: Task, view: IncrementalView, lease: Lease, host: some TaskHost,
                                      local: inout Local) -> [ProgramEffect] {
        guard let current = view.current else { return [] }
        if let due = local.nextTrainCheck, task.now < due { return [] }
        let trigger = task.spec.trainSpec.trigger
        local.nextTrainCheck = task.now + .seconds(max(1, trigger.checkPeriodSeconds))
        let trainers = JobPeers.trainers(task, host: host)
        guard !trainers.isEmpty else {
            return waiting("no peer to train on: needs \(JobPeers.describeTrainers(task.spec))", task, local: &local)
        }
        let rows = trainers.map { JobPeers.rows(of: $0, task.spec, host: host) ?? 0 }
        let trained = view.trainedRows
        var newSamples: UInt64 = 0
        for (peer, count) in zip(trainers, rows) {
            newSamples += newTrainingRows(of: peer, from: trained[peer] ?? 0, to: count, task.spec, local: &local)
        }
        let evaluation = trigger.evaluate(at: task.unix, metrics: ["num_of_samples": MetricValue(Double(newSamples))])
        let found = describe(evaluation, trigger: trigger)
        var effects: [ProgramEffect] = []
        if found != local.trainCheck {
            effects.append(.log(.info, "job \(task.name) (\(task.id.short)) train trigger: \(found)"))
        }
        local.trainCheck = found
        guard evaluation.fires else { return effects }
        local.waitingFor = nil
        let work = StageWork(baseVersion: current.version, base: current.model, peers: trainers, rows: rows, newSamples: newSamples)
        let names = trainers.map { host.name(of: $0) ?? $0.short }.joined(separator: ", ")
        effects.append(.count("jobs.trainings started"))
        effects.append(commit(.training(work), cycle: view.cycle, task, lease: lease,
                              log: "train running on \(names) from version \(current.version) (\(found))"))
        return effects
    }

    /// New training rows of `peer` in `from..<to` (all of them when its dataset shrank: replaced),
    /// counted once per row and remembered.
    private static func newTrainingRows(of peer: NodeID, from: UInt64, to: UInt64, _ spec: IncrementalLearningJobSpec,
                                        local: inout Local) -> UInt64 {
        let start = from <= to ? from : 0
        let probability = spec.dataset.trainProbability
        if let held = local.counted[peer], held.from == start, held.to <= to {
            let more = ArrivalSplit.trainingCount(dataset: spec.dataset.name, rows: held.to..<to, trainProbability: probability)
            local.counted[peer] = CountedRows(from: start, to: to, count: held.count + more)
        } else {
            let count = ArrivalSplit.trainingCount(dataset: spec.dataset.name, rows: start..<to, trainProbability: probability)
            local.counted[peer] = CountedRows(from: start, to: to, count: count)
        }
        return local.counted[peer]?.count ?? 0
    }

    private static func finishTraining(_ work: StageWork, round: UInt64, cycle: UInt64, _ task: Task, view: IncrementalView,
                                       lease: Lease, host: some TaskHost, local: inout Local) -> [ProgramEffect] {
        if let answer = local.combined.removeValue(forKey: round) {
            local.combining = nil
            switch answer {
            case let .success(candidate):
                let evaluators = JobPeers.evaluators(task, training: work, host: host)
                guard !evaluators.isEmpty else {
                    return [commit(.failed(stage: .eval, reason: "no peer to evaluate on is up"), cycle: cycle, task, lease: lease,
                                   log: "eval failed: no peer to evaluate on is up")]
                }
                let rows = evaluators.map { work.rows(of: $0) ?? JobPeers.rows(of: $0, task.spec, host: host) ?? 0 }
                let evaluation = StageWork(baseVersion: work.baseVersion, base: work.base, peers: evaluators, rows: rows,
                                           newSamples: work.newSamples)
                return [.count("jobs.trainings completed"),
                        commit(.evaluating(candidate: candidate, work: evaluation), cycle: cycle, task, lease: lease,
                               log: "train completed: candidate \(candidate.hex.prefix(12)); eval running")]
            case let .failure(failure):
                return [.count("jobs.trainings failed"),
                        commit(.failed(stage: .train, reason: failure.reason), cycle: cycle, task, lease: lease,
                               log: "train failed: \(failure.reason)")]
            }
        }
        guard local.combining != round else { return [] }
        let results = view.results[round] ?? [:]
        guard stageEnds(work, round: round, results: results, task, host: host, local: &local) else { return [] }
        var updates: [JobUpdate] = []
        var failures: [String] = []
        for peer in work.peers {
            let name = host.name(of: peer) ?? peer.short
            switch results[peer]?.outcome {
            case let .trained(update)?:
                if let source = host.blobSource(peer) {
                    updates.append(JobUpdate(update: update, source: source))
                } else {
                    failures.append("\(name): not a member any more")
                }
            case let .failed(reason)?: failures.append("\(name): \(reason)")
            case .evaluated?: failures.append("\(name): answered with an evaluation")
            case nil: failures.append("\(name): no answer in \(host.taskSettings.jobStageTimeout)")
            }
        }
        guard !updates.isEmpty else {
            let reason = "no peer trained a candidate (" + failures.joined(separator: "; ") + ")"
            return [.count("jobs.trainings failed"),
                    commit(.failed(stage: .train, reason: String(reason.prefix(TaskStateLimits.failureBytesMax))), cycle: cycle, task,
                           lease: lease, log: "train failed: \(reason)")]
        }
        local.combining = round
        var effects: [ProgramEffect] = [.work(.incremental(.combine(JobCombineWork(task: task.id, spec: task.state.spec, round: round,
                                                                                   base: work.base, updates: updates))))]
        if !failures.isEmpty {
            effects.append(.log(.warning, "job \(task.name) (\(task.id.short)) combines \(updates.count) of \(work.peers.count) "
                + "updates: " + failures.joined(separator: "; ")))
        }
        return effects
    }

    /// Whether the running step of `round` ends now: every peer answered, or
    /// `TaskSettings.jobStageTimeout` passed since this coordinator first saw it running.
    private static func stageEnds(_ work: StageWork, round: UInt64, results: [NodeID: StageResult], _ task: Task,
                                  host: some TaskHost, local: inout Local) -> Bool {
        let seen = local.stageSeen[round] ?? task.now
        local.stageSeen[round] = seen
        return work.peers.allSatisfy { results[$0] != nil } || task.now >= seen + host.taskSettings.jobStageTimeout
    }

    // MARK: Eval

    private static func finishEvaluation(_ work: StageWork, round: UInt64, cycle: UInt64, _ task: Task, view: IncrementalView,
                                         lease: Lease, host: some TaskHost, local: inout Local) -> [ProgramEffect] {
        let results = view.results[round] ?? [:]
        let timeout = host.taskSettings.jobStageTimeout
        guard stageEnds(work, round: round, results: results, task, host: host, local: &local) else { return [] }
        var sum: Evaluation?
        var failures: [String] = []
        for peer in work.peers {
            switch results[peer]?.outcome {
            case let .evaluated(evaluation)?:
                sum = sum.map { Evaluation(candidate: $0.candidate.adding(evaluation.candidate),
                                           deployed: $0.deployed.adding(evaluation.deployed)) } ?? evaluation
            case let .failed(reason)?: failures.append("\(host.name(of: peer) ?? peer.short): \(reason)")
            case .trained?: failures.append("\(host.name(of: peer) ?? peer.short): answered with an update")
            case nil: failures.append("\(host.name(of: peer) ?? peer.short): no answer in \(timeout)")
            }
        }
        guard let sum, sum.candidate.total > 0 else {
            let reason = sum == nil ? "no peer evaluated the candidate (" + failures.joined(separator: "; ") + ")"
                : "no evaluation rows: the peers' datasets have none in the eval part yet (trainProb \(task.spec.dataset.trainProbability))"
            return [.count("jobs.evaluations failed"),
                    commit(.failed(stage: .eval, reason: String(reason.prefix(TaskStateLimits.failureBytesMax))), cycle: cycle, task,
                           lease: lease, log: "eval failed: \(reason)")]
        }
        local.nextDeployCheck = nil
        let metrics = sum.metrics
        let summary = ["accuracy", "accuracy_delta", "f1", "f1_delta"].compactMap { name in
            metrics[name]?.value.map { "\(name) \(format($0))" }
        }.joined(separator: ", ")
        return [.count("jobs.evaluations completed"),
                commit(.deciding(sum), cycle: cycle, task, lease: lease,
                       log: "eval completed on \(sum.candidate.total) rows: \(summary); deploy waits for its trigger")]
    }

    // MARK: Deploy

    private static func decideDeploy(_ evaluation: Evaluation, cycle: UInt64, _ task: Task, view: IncrementalView, lease: Lease,
                                     local: inout Local) -> [ProgramEffect] {
        if let due = local.nextDeployCheck, task.now < due { return [] }
        let trigger = task.spec.deploySpec.trigger
        local.nextDeployCheck = task.now + .seconds(max(1, trigger.checkPeriodSeconds))
        guard let candidateStep = view.steps.last(where: { $0.transition.cycle == cycle && $0.transition.step.model != nil }),
              let candidate = candidateStep.transition.step.model, case let .evaluating(_, work) = candidateStep.transition.step,
              let current = view.current else {
            return [commit(.failed(stage: .deploy, reason: "the cycle's candidate is not on the line"), cycle: cycle, task,
                           lease: lease, log: "deploy failed: the cycle's candidate is not on the line")]
        }
        let decision = trigger.evaluate(at: task.unix, metrics: evaluation.metrics)
        let found = describe(decision, trigger: trigger)
        switch decision {
        case .outsideWindow:
            return []
        case .fires:
            let next = (view.versions.map(\.version).max() ?? 0) + 1
            let trainRows = view.steps.last { step in
                if case .training = step.transition.step { return step.transition.cycle == cycle }
                return false
            }.flatMap { step -> UInt64? in
                guard case let .training(training) = step.transition.step else { return nil }
                return zip(training.peers, training.rows).reduce(0) { total, pair in
                    total + ArrivalSplit.trainingCount(dataset: task.spec.dataset.name, rows: 0..<pair.1,
                                                       trainProbability: task.spec.dataset.trainProbability)
                }
            } ?? 0
            let version = ModelVersion(version: next, model: candidate, parent: work.baseVersion, cycle: cycle, trainSamples: trainRows,
                                       evalSamples: evaluation.candidate.total, evaluation: evaluation)
            return [.count("jobs.versions deployed"),
                    commit(.deployed(version), cycle: cycle, task, lease: lease,
                           log: "deploy completed: version \(next) (from version \(work.baseVersion); was \(current.version)): \(found)")]
        case .conditionFalse:
            return [.count("jobs.cycles not deployed"),
                    commit(.notDeployed(reason: found), cycle: cycle, task, lease: lease, log: "not deployed: \(found)")]
        case .unknownMetric:
            let known = evaluation.metrics.keys.sorted().joined(separator: ", ")
            let reason = "\(found); known metrics: \(known) (per class: name[N])"
            return [.count("jobs.cycles not deployed"),
                    commit(.failed(stage: .deploy, reason: String(reason.prefix(TaskStateLimits.failureBytesMax))), cycle: cycle, task,
                           lease: lease, log: "deploy failed: \(reason)")]
        }
    }

    private static func answerRollback(_ pending: (hash: ContentHash, request: RollbackRequest), _ task: Task, view: IncrementalView,
                                       lease: Lease) -> ProgramEffect {
        let current = view.current
        let wanted = pending.request.version == 0 ? current?.parent ?? 0 : pending.request.version
        let cycle = view.last?.cycle ?? 0
        guard wanted > 0, view.versions.contains(where: { $0.version == wanted }) else {
            let reason = wanted == 0 ? "version \(current?.version ?? 0) has no parent to roll back to"
                : "no version \(wanted) (versions: \(view.versions.map { String($0.version) }.joined(separator: ", ")))"
            return commit(.rollbackRefused(request: pending.hash, reason: reason), cycle: cycle, task, lease: lease,
                          log: "rollback refused: \(reason)")
        }
        return commit(.rolledBack(to: wanted, request: pending.hash), cycle: cycle, task, lease: lease,
                      log: "rolled back to version \(wanted) (was \(current?.version ?? 0))")
    }

    // MARK: Driver answers (coordinator)

    static func combineAnswered(_ result: IncrementalWorkResult, local: inout Local) -> Bool {
        switch result {
        case let .combined(_, round, model):
            guard local.combining == round else { return false }
            local.combined[round] = .success(model)
            return true
        case let .failed(_, round, .combine, reason):
            guard local.combining == round else { return false }
            local.combined[round] = .failure(StageFailure(reason: "combining the updates failed: \(reason)"))
            return true
        default:
            return false
        }
    }

    // MARK: Text

    static func describe(_ evaluation: TriggerEvaluation, trigger: Trigger) -> String {
        let condition = "\(trigger.condition.metric) \(trigger.condition.comparison.rawValue) \(format(trigger.condition.threshold))"
        switch evaluation {
        case let .fires(value): return "\(trigger.condition.metric) = \(format(value)), \(condition) holds"
        case let .conditionFalse(value): return "\(trigger.condition.metric) = \(format(value)), not \(condition)"
        case .outsideWindow: return "outside the trigger's window"
        case let .unknownMetric(name): return "no metric \(name)"
        }
    }

    /// Whole numbers as such, others to 4 decimals.
    static func format(_ value: Double) -> String {
        guard value.isFinite else { return "\(value)" }
        if value == value.rounded() && abs(value) < 1e15 { return String(Int64(value)) }
        return "\((value * 10_000).rounded() / 10_000)"
    }

    static func waiting(_ reason: String, _ task: Task, local: inout Local) -> [ProgramEffect] {
        guard reason != local.waitingFor else { return [] }
        local.waitingFor = reason
        return [.count("jobs.waiting"), .log(.warning, "job \(task.name) (\(task.id.short)) waits: \(reason)")]
    }
}
