import StarlingCrypto
import StarlingMembership
import StarlingTasks

/// The programs this build runs, one case per kind: the only place the host learns of kinds. A
/// kind with no case here is `unsupported`: submitting it is refused, and a peer that learns such
/// a task from another peer shows it and never claims it.
enum TaskPrograms {
    /// Whether this build has a program for `kind`.
    static func supports(_ kind: TaskSpec.Kind) -> Bool {
        switch kind {
        case .federatedTask: return true
        case .incrementalLearningJob, .jointInferenceService: return false
        }
    }

    /// The kinds this build runs, for error messages.
    static var supportedNames: [String] {
        [TaskKindName.federatedTask.rawValue]
    }
}

/// A program's `Local`, by kind.
enum ProgramLocal: Sendable {
    case federated(FederatedProgram.Local)

    /// Whether the program waits for the driver to hold `model` (so the host drives the task again
    /// as soon as it does).
    func waits(for model: ContentHash) -> Bool {
        switch self {
        case let .federated(local): return local.startingModel?.model == model
        }
    }
}

extension Peer {
    /// Calls the task's program as coordinator or participant and performs what it asks.
    mutating func runProgram(_ id: TaskID, state: TaskState, view: TaskView, lease: Lease, unix: UInt64, now: Instant,
                             coordinating: Bool, effects: inout [PeerEffect]) {
        switch state.spec.kind {
        case let .federatedTask(spec):
            let task = ProgramTask(id: id, state: state, view: view, spec: spec, lease: lease, now: now, unix: unix)
            var local = federatedLocal(id)
            if coordinating { perform(FederatedProgram.coordinate(task, host: self, local: &local), task: id, now: now, effects: &effects) }
            perform(FederatedProgram.participate(task, host: self, local: &local), task: id, now: now, effects: &effects)
            taskBook.programs[id] = .federated(local)
        case .incrementalLearningJob, .jointInferenceService:
            preconditionFailure("a task of a kind with no program is never driven")
        }
    }

    /// Hands the driver's answer to the program of its task.
    mutating func programWorkDone(_ result: TaskWorkResult, now: Instant, effects: inout [PeerEffect]) {
        switch result {
        case let .federated(result):
            let id = result.task
            taskBook.dirty.insert(id)
            guard let state = taskBook.states[id], case let .federatedTask(spec) = state.spec.kind else {
                count("tasks.work results for unknown tasks")
                return
            }
            let view = state.view
            let task = ProgramTask(id: id, state: state, view: view, spec: spec, lease: view.currentLease, now: now,
                                   unix: unixNow(now))
            var local = federatedLocal(id)
            let asked = FederatedProgram.workDone(result, task: task, host: self, local: &local)
            taskBook.programs[id] = .federated(local)
            perform(asked, task: id, now: now, effects: &effects)
        case let .modelHeld(hash):
            taskBook.modelHeld(hash, max: taskSettings.heldModelsMax)
            // A program waiting for this model (a starting model) moves on now, not at the next tick.
            for (id, local) in taskBook.programs where local.waits(for: hash) { taskBook.dirty.insert(id) }
        }
    }

    /// Which candidates the task's program wants as coordinators.
    func programCoordinators(_ candidates: [CoordinatorElection.Candidate], spec: TaskSpec) -> [CoordinatorElection.Candidate] {
        switch spec.kind {
        case let .federatedTask(federated): return FederatedProgram.coordinators(candidates, spec: federated, host: self)
        case .incrementalLearningJob, .jointInferenceService: return candidates
        }
    }

    private func federatedLocal(_ id: TaskID) -> FederatedProgram.Local {
        if case let .federated(local)? = taskBook.programs[id] { return local }
        return FederatedProgram.Local()
    }
}
