import StarlingCrypto
import StarlingTrust

/// A step on the surviving line, with who committed it.
public struct CommittedStep: Hashable, Sendable {
    public let transition: JobTransition
    public let coordinator: NodeID
    public let entry: ContentHash
}

/// What an IncrementalLearningJob's entries mean: its steps in line order, the model versions and
/// the current one, the results answering the stage in progress, and rollbacks not yet answered.
public struct IncrementalView: Sendable, Equatable {
    public let steps: [CommittedStep]
    /// Results by the round they answer, one per peer, counted only from the peer they name.
    public let results: [UInt64: [NodeID: StageResult]]
    /// Rollback requests (entry hash → request) no step has answered yet, oldest first.
    public let pendingRollbacks: [(hash: ContentHash, request: RollbackRequest)]

    public static func == (left: IncrementalView, right: IncrementalView) -> Bool {
        left.steps == right.steps && left.results == right.results
            && left.pendingRollbacks.map(\.hash) == right.pendingRollbacks.map(\.hash)
    }

    init(entries: [TaskEntry], line: ProgramLine) {
        var byHash: [ContentHash: JobTransition] = [:]
        var results: [UInt64: [NodeID: StageResult]] = [:]
        var rollbacks: [(hash: ContentHash, request: RollbackRequest)] = []
        for entry in entries {
            switch entry.body.incremental {
            case let .step(transition)?: byHash[entry.hash] = transition
            case let .result(result)? where result.peer == entry.author:
                // A peer's later answer to the same round (a success after a failure) wins.
                if let held = results[result.round]?[result.peer], held.outcome.isSuccess || !result.outcome.isSuccess { continue }
                results[result.round, default: [:]][result.peer] = result
            case let .rollback(request)?: rollbacks.append((entry.hash, request))
            default: break
            }
        }
        steps = line.commits.compactMap { commit in
            byHash[commit.entry].map { CommittedStep(transition: $0, coordinator: commit.coordinator, entry: commit.entry) }
        }
        var answered: Set<ContentHash> = []
        for step in steps {
            switch step.transition.step {
            case let .rolledBack(_, request), let .rollbackRefused(request, _): answered.insert(request)
            default: break
            }
        }
        self.results = results
        pendingRollbacks = rollbacks.filter { !answered.contains($0.hash) }
            .sorted { ($0.request.requestedAt, $0.hash) < ($1.request.requestedAt, $1.hash) }
    }

    public var last: JobTransition? { steps.last?.transition }

    /// The cycle the job is in: the last step's, or the next one when that step ended its cycle.
    public var cycle: UInt64 {
        guard let last else { return 0 }
        return last.step.endsCycle ? last.cycle + 1 : last.cycle
    }

    /// Where the job is: Train/Waiting after a cycle ends (and before the first version, which
    /// is Deploy/Waiting).
    public var position: (stage: JobStage, status: StageStatus) {
        guard let last else { return (.deploy, .waiting) }
        return last.step.endsCycle ? (.train, .waiting) : last.step.position
    }

    /// Every version deployed, in order.
    public var versions: [ModelVersion] {
        steps.compactMap { step in
            if case let .deployed(version) = step.transition.step { return version }
            return nil
        }
    }

    /// The version serving now: the last deployed, or the one a later rollback named.
    public var current: ModelVersion? {
        let versions = versions
        for step in steps.reversed() {
            switch step.transition.step {
            case let .deployed(version): return version
            case let .rolledBack(to, _): return versions.first { $0.version == to }
            default: continue
            }
        }
        return nil
    }

    /// The rows each peer's dataset had at the last training that completed (its data counted
    /// then): new samples are counted from there.
    public var trainedRows: [NodeID: UInt64] {
        var completed: Set<UInt64> = []
        for step in steps { if case .evaluating = step.transition.step { completed.insert(step.transition.cycle) } }
        for step in steps.reversed() {
            if case let .training(work) = step.transition.step, completed.contains(step.transition.cycle) {
                return Dictionary(uniqueKeysWithValues: zip(work.peers, work.rows))
            }
        }
        return [:]
    }

    /// The committed step that introduced `model` (its committer and ref), for where to fetch it.
    public func step(making model: ContentHash) -> CommittedStep? {
        steps.last { $0.transition.step.model == model }
    }
}

extension StageResult.Outcome {
    public var isSuccess: Bool {
        if case .failed = self { return false }
        return true
    }
}

extension TaskView {
    /// The IncrementalLearningJob's view, when the task is one.
    public var incremental: IncrementalView? {
        if case let .incremental(view)? = program { return view }
        return nil
    }
}
