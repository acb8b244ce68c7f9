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
        case .federatedTask, .jointInferenceService, .incrementalLearningJob: return true
        }
    }

    /// The kinds this build runs, for error messages.
    static var supportedNames: [String] {
        [TaskKindName.federatedTask.rawValue, TaskKindName.jointInferenceService.rawValue,
         TaskKindName.incrementalLearningJob.rawValue]
    }
}

/// A program's `Local`, by kind.
enum ProgramLocal: Sendable {
    case federated(FederatedProgram.Local)
    case jointInference(JointInferenceProgram.Local)
    case incremental(IncrementalProgram.Local)

    /// Whether the program waits for the driver to hold `model` (so the host drives the task again
    /// as soon as it does).
    func waits(for model: ContentHash) -> Bool {
        switch self {
        case let .federated(local): return local.startingModel?.model == model
        case .jointInference, .incremental: return false
        }
    }
}

extension Peer {
    /// Calls the task's program as coordinator (when `coordinating`) and participant.
    mutating func runProgram(_ id: TaskID, state: TaskState, view: TaskView, lease: Lease, unix: UInt64, now: Instant,
                             coordinating: Bool, effects: inout [PeerEffect]) {
        switch state.spec.kind {
        case .federatedTask:
            run(FederatedProgram.self, id, state: state, view: view, lease: lease, unix: unix, now: now,
                coordinating: coordinating, effects: &effects)
        case .jointInferenceService:
            run(JointInferenceProgram.self, id, state: state, view: view, lease: lease, unix: unix, now: now,
                coordinating: coordinating, effects: &effects)
        case .incrementalLearningJob:
            run(IncrementalProgram.self, id, state: state, view: view, lease: lease, unix: unix, now: now,
                coordinating: coordinating, effects: &effects)
        }
    }

    /// Hands the driver's answer to the program of its task.
    mutating func programWorkDone(_ result: TaskWorkResult, now: Instant, effects: inout [PeerEffect]) {
        switch result {
        case let .federated(result):
            workDone(FederatedProgram.self, result, task: result.task, now: now, effects: &effects)
        case let .serving(result):
            // Serving answers a JointInferenceService and an IncrementalLearningJob's deploy peers alike.
            if taskBook.states[result.task]?.spec.incrementalLearningJob != nil {
                workDone(IncrementalProgram.self, .serving(result), task: result.task, now: now, effects: &effects)
            } else {
                workDone(JointInferenceProgram.self, result, task: result.task, now: now, effects: &effects)
            }
        case let .incremental(result):
            workDone(IncrementalProgram.self, .work(result), task: result.task, now: now, effects: &effects)
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
        case let .jointInferenceService(service): return JointInferenceProgram.coordinators(candidates, spec: service, host: self)
        case let .incrementalLearningJob(job): return IncrementalProgram.coordinators(candidates, spec: job, host: self)
        }
    }

    /// Lets the task's program fill its part of a summary.
    func describeProgram(_ state: TaskState, view: TaskView, unix: UInt64, into summary: inout TaskSummary) {
        switch state.spec.kind {
        case .federatedTask: describe(FederatedProgram.self, state, view: view, unix: unix, into: &summary)
        case .jointInferenceService: describe(JointInferenceProgram.self, state, view: view, unix: unix, into: &summary)
        case .incrementalLearningJob:
            describe(IncrementalProgram.self, state, view: view, unix: unix, into: &summary)
            // What only this peer's program knows: its last trigger check, why it waits, what it serves.
            if case let .incremental(local)? = taskBook.programs[state.id] {
                summary.job?.trainCheck = local.trainCheck
                summary.job?.waitingFor = local.waitingFor
                summary.job?.servedVersion = local.served
                summary.job?.servingFailure = local.servingFailure
            }
        }
    }

    // MARK: Any program

    private func describe<Program: TaskProgram>(_ program: Program.Type, _ state: TaskState, view: TaskView, unix: UInt64,
                                                into summary: inout TaskSummary) {
        guard let spec = Program.spec(of: state.spec) else { return }
        let task = ProgramTask(id: state.id, state: state, view: view, spec: spec, lease: view.currentLease, now: lastNow,
                               unix: unix)
        Program.summarize(task, into: &summary, host: self)
    }

    private mutating func run<Program: TaskProgram>(_ program: Program.Type, _ id: TaskID, state: TaskState, view: TaskView,
                                                    lease: Lease, unix: UInt64, now: Instant, coordinating: Bool,
                                                    effects: inout [PeerEffect]) {
        guard let spec = Program.spec(of: state.spec) else { preconditionFailure("\(program) runs only its own kind") }
        let task = ProgramTask(id: id, state: state, view: view, spec: spec, lease: lease, now: now, unix: unix)
        var local = Program.local(taskBook.programs[id])
        if coordinating { perform(Program.coordinate(task, host: self, local: &local), task: id, now: now, effects: &effects) }
        perform(Program.participate(task, host: self, local: &local), task: id, now: now, effects: &effects)
        taskBook.programs[id] = Program.held(local)
    }

    private mutating func workDone<Program: TaskProgram>(_ program: Program.Type, _ result: Program.WorkResult, task id: TaskID,
                                                         now: Instant, effects: inout [PeerEffect]) {
        taskBook.dirty.insert(id)
        guard let state = taskBook.states[id], let spec = Program.spec(of: state.spec) else {
            count("tasks.work results for unknown tasks")
            return
        }
        let view = state.view
        let task = ProgramTask(id: id, state: state, view: view, spec: spec, lease: view.currentLease, now: now,
                               unix: unixNow(now))
        var local = Program.local(taskBook.programs[id])
        let asked = Program.workDone(result, task: task, host: self, local: &local)
        taskBook.programs[id] = Program.held(local)
        perform(asked, task: id, now: now, effects: &effects)
    }
}
