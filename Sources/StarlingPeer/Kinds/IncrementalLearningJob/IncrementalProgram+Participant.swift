import StarlingCrypto
import StarlingMembership
import StarlingTasks
import StarlingTrust

extension IncrementalProgram {
    static func participate(_ task: Task, host: some TaskHost, local: inout Local) -> [ProgramEffect] {
        guard let view = task.view.incremental else { return [] }
        var effects = serve(task, view: view, host: host, local: &local)
        guard let last = view.last, let current = view.current else { return effects }
        let round = last.round
        local.asked = local.asked.filter { $0 >= round }
        // Once per step, and not again after a restart when this peer's result is on record.
        guard !local.asked.contains(round), view.results[round]?[host.me] == nil else { return effects }
        let dataset = task.spec.dataset
        switch last.step {
        case let .training(work):
            guard let rows = work.rows(of: host.me) else { return effects }
            local.asked.insert(round)
            let order = JobTrainWork(task: task.id, spec: task.state.spec, round: round, cycle: last.cycle, base: work.base,
                                     sources: JobModels.sources(of: work.base, task, host: host),
                                     data: JobDataSlice(dataset: dataset.name, rows: rows, part: .train,
                                                        trainProbability: dataset.trainProbability),
                                     seed: seed(of: task.id))
            effects += [.work(.incremental(.train(order))), .count("jobs.train shares asked")]
        case let .evaluating(candidate, work):
            guard let rows = work.rows(of: host.me) else { return effects }
            local.asked.insert(round)
            let compared = comparedModel(task, current: current, host: host)
            let sources = JobModels.sources(of: candidate, task, host: host) + compared.sources
            let order = JobEvalWork(task: task.id, spec: task.state.spec, round: round, cycle: last.cycle, candidate: candidate,
                                    deployed: compared.model, sources: sources,
                                    data: JobDataSlice(dataset: dataset.name, rows: rows, part: .eval,
                                                       trainProbability: dataset.trainProbability))
            effects += [.work(.incremental(.evaluate(order))), .count("jobs.eval shares asked")]
        default:
            break
        }
        return effects
    }

    /// What a candidate is compared with: the current version, or while that is still version 1,
    /// `evalSpec.initialEvalModel` when the spec names one that resolves.
    static func comparedModel(_ task: Task, current: ModelVersion, host: some TaskHost) -> (model: ContentHash, sources: [BlobSource]) {
        if current.version == 1, let name = task.spec.evalSpec.initialEvalModel?.name,
           case let .held(model, holders) = ServiceModels.resolve(name, host: host) {
            let sources = holders.filter { $0 != host.me && host.isUp($0) }.compactMap { host.blobSource($0) }
            return (model, sources)
        }
        return (current.model, JobModels.sources(of: current.model, task, host: host))
    }

    /// On a deploy peer: serve the current version under the job's name (an edge worker, with no
    /// cloud), asked again whenever the version changes (a deploy, a rollback); elsewhere, stop.
    private static func serve(_ task: Task, view: IncrementalView, host: some TaskHost, local: inout Local) -> [ProgramEffect] {
        let deploys = JobPeers.deploysHere(task, host: host)
        let current = deploys ? view.current : nil
        let wanted = current?.version ?? 0
        let retry = local.retryServingAt.map { task.now >= $0 } ?? false
        guard wanted != (local.serving ?? 0) || (retry && wanted != 0) else { return [] }
        local.serving = wanted
        local.retryServingAt = nil
        var roles: [ServingRole: ServedModel] = [:]
        if let current {
            roles[.edge] = ServedModel(model: current.model, sources: JobModels.sources(of: current.model, task, host: host))
        }
        let work = ServeWork(task: task.id, spec: task.state.spec, version: wanted, roles: roles, cloudPeers: [])
        return [.work(.serve(work)), .count(current == nil ? "jobs.serving stopped" : "jobs.serving ordered")]
    }

    static func workDone(_ result: JobWorkResult, task: Task, host: some TaskHost, local: inout Local) -> [ProgramEffect] {
        switch result {
        case let .serving(answer):
            if let failure = answer.failure {
                local.servingFailure = failure
                local.retryServingAt = task.now + .seconds(max(1, task.spec.deploySpec.pollPeriodSeconds))
                return [.count("jobs.serving failed"),
                        .log(.error, "job \(task.name) (\(task.id.short)): cannot serve version \(answer.version): \(failure)")]
            }
            local.servingFailure = nil
            local.retryServingAt = nil
            local.served = answer.version
            return [.count("jobs.serving started"), .log(.info, "job \(task.name) (\(task.id.short)) serves version \(answer.version)")]
        case let .work(answer):
            if combineAnswered(answer, local: &local) {
                if case let .combined(_, _, model) = answer { return [.holdsModel(model)] }
                return []
            }
            let outcome: StageResult.Outcome
            let round: UInt64
            switch answer {
            case let .trained(_, stepRound, update):
                (round, outcome) = (stepRound, .trained(update))
            case let .evaluated(_, stepRound, evaluation):
                (round, outcome) = (stepRound, .evaluated(evaluation))
            case let .failed(_, stepRound, work, reason) where work != .combine:
                (round, outcome) = (stepRound, .failed(String(reason.prefix(TaskStateLimits.failureBytesMax))))
            default:
                return [.count("jobs.stale answers")]
            }
            let result = StageResult(peer: host.me, round: round, outcome: outcome)
            let coordinator = task.lease.map { [$0.holder] } ?? []
            let what: String
            switch outcome {
            case let .trained(update): what = "trained an update on \(update.sampleCount) rows"
            case let .evaluated(evaluation): what = "evaluated on \(evaluation.candidate.total) rows"
            case let .failed(reason): what = "failed: \(reason)"
            }
            return [.sign(.stageResult(result), pushTo: coordinator, counter: "jobs.stage results",
                          log: (outcome.isSuccess ? .info : .warning, "job \(task.name) (\(task.id.short)) step \(round): \(what)"))]
        }
    }
}
