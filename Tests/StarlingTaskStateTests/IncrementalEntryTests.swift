import StarlingCrypto
@testable import StarlingTasks
import StarlingTrust
import StarlingWire
import Testing

/// An IncrementalLearningJob's entries: their encoding, their rules, and what the view makes of
/// them (versions, the current one after rollbacks, results per round, pending rollbacks).
@Suite struct IncrementalEntryTests {
    let fixture = TaskFixture()
    let signed: SignedTaskSpec

    init() {
        let script = WorkerSpec(script: ScriptSpec(bootFile: .builtin(.logreg)))
        let samples = Trigger(condition: TriggerCondition(metric: "num_of_samples", comparison: .greater, threshold: 100))
        let better = Trigger(condition: TriggerCondition(metric: "accuracy_delta", comparison: .greater, threshold: 0))
        let spec = TaskSpec(name: "learn", kind: .incrementalLearningJob(IncrementalLearningJobSpec(
            initialModel: ModelRef(name: "initial"), dataset: IncrementalDataset(name: "incoming"),
            trainSpec: IncrementalTrainSpec(workerSpec: script, trigger: samples),
            evalSpec: IncrementalEvalSpec(workerSpec: script),
            deploySpec: IncrementalDeploySpec(model: ModelRef(name: "deployed"), workerSpec: script, trigger: better))))
        signed = try! SignedTaskSpec.sign(spec, submittedAt: TaskFixture.now, with: TaskFixture.key(10))
    }

    func entry(_ body: TaskEntryBody, by index: Int) -> TaskEntry { TaskEntry.sign(body, task: signed.id, with: TaskFixture.key(index)) }

    func lease(_ epoch: UInt64, by index: Int) -> TaskEntry {
        entry(.lease(Lease(epoch: epoch, holder: TaskFixture.node(index), base: nil, expiresAt: TaskFixture.now + 60,
                           renewal: 0, capacity: 1)), by: index)
    }

    func step(_ round: UInt64, cycle: UInt64, _ step: JobStep) -> TaskEntryBody {
        .jobStep(JobTransition(epoch: 1, round: round, cycle: cycle, step: step, at: TaskFixture.now + round))
    }

    static let evaluation = Evaluation(candidate: ConfusionMatrix(truth: [0, 1, 1], predicted: [0, 1, 1], classes: 2),
                                       deployed: ConfusionMatrix(truth: [0, 1, 1], predicted: [0, 0, 1], classes: 2))
    static let work = StageWork(baseVersion: 1, base: TaskFixture.model(1), peers: [TaskFixture.node(21), TaskFixture.node(20)],
                                rows: [300, 200], newSamples: 400)

    static func version(_ number: UInt64, parent: UInt64, cycle: UInt64) -> ModelVersion {
        ModelVersion(version: number, model: TaskFixture.model(UInt8(number)), parent: parent, cycle: cycle, trainSamples: 400,
                     evalSamples: 100, evaluation: number == 1 ? nil : evaluation)
    }

    var samples: [TaskEntryBody] {
        [step(1, cycle: 0, .deployed(Self.version(1, parent: 0, cycle: 0))),
         step(2, cycle: 1, .training(Self.work)),
         step(3, cycle: 1, .evaluating(candidate: TaskFixture.model(9), work: Self.work)),
         step(4, cycle: 1, .deciding(Self.evaluation)),
         step(5, cycle: 1, .deployed(Self.version(2, parent: 1, cycle: 1))),
         step(6, cycle: 2, .failed(stage: .eval, reason: "no evaluation results before the deadline")),
         step(7, cycle: 2, .notDeployed(reason: "accuracy_delta = 0 is not > 0")),
         step(8, cycle: 2, .rolledBack(to: 1, request: TaskFixture.model(70))),
         step(9, cycle: 2, .rollbackRefused(request: TaskFixture.model(71), reason: "no version 9")),
         .stageResult(StageResult(peer: TaskFixture.node(20), round: 2, outcome: .trained(UpdateRef(hash: TaskFixture.model(30), sampleCount: 160)))),
         .stageResult(StageResult(peer: TaskFixture.node(20), round: 3, outcome: .evaluated(Self.evaluation))),
         .stageResult(StageResult(peer: TaskFixture.node(21), round: 3, outcome: .failed("the worker exited with status 1"))),
         .rollback(RollbackRequest(version: 0, requestedAt: TaskFixture.now))]
    }

    @Test func everyEntryRoundTrips() throws {
        for body in samples {
            let original = entry(body, by: 0)
            let decoded = try TaskEntry(wireBytes: original.wireBytes)
            #expect(decoded == original && decoded.wireBytes == original.wireBytes)
        }
        #expect(Set(samples.map(\.kind)) == [.jobStep, .stageResult, .rollback])
        #expect(Self.work.peers == [TaskFixture.node(20), TaskFixture.node(21)].sorted())
        #expect(Self.work.rows(of: TaskFixture.node(21)) == 300, "rows follow their peers when sorted")
    }

    @Test func mutatedBytesNeverTrap() {
        var random = SeededRandom(seed: 0x10B)
        for body in samples {
            let bytes = entry(body, by: 0).wireBytes
            for _ in 0..<400 {
                var mutated = bytes
                let index = Int.random(in: 0..<mutated.count, using: &random)
                mutated[index] = UInt8.random(in: 0...255, using: &random)
                if let decoded = try? TaskEntry(wireBytes: mutated) { #expect(decoded.wireBytes == mutated) }
            }
        }
    }

    @Test func theViewFollowsVersionsRollbacksAndResults() {
        var state = TaskState(spec: signed)
        func merge(_ body: TaskEntryBody, by index: Int) -> MergeOutcome {
            state.merge(entry(body, by: index), roles: fixture.lookup, verifier: fixture.cache)
        }
        #expect(state.view.incremental.map { $0.position == (.deploy, .waiting) } == true)
        #expect(state.merge(lease(1, by: 0), roles: fixture.lookup, verifier: fixture.cache) == .added)
        for body in samples.prefix(5) { #expect(merge(body, by: 0) == .added) }
        var view = state.view.incremental!
        #expect(view.versions.map(\.version) == [1, 2] && view.current?.version == 2)
        #expect(view.position == (.train, .waiting) && view.cycle == 2)
        #expect(view.trainedRows == [TaskFixture.node(20): 200, TaskFixture.node(21): 300])
        #expect(view.step(making: TaskFixture.model(9))?.transition.round == 3, "the candidate's step, for its holders")
        // Results count only from the peer they name; a success is not replaced by a later failure.
        let result = StageResult(peer: TaskFixture.node(20), round: 2, outcome: .trained(UpdateRef(hash: TaskFixture.model(30), sampleCount: 1)))
        #expect(merge(.stageResult(result), by: 20) == .added)
        #expect(merge(.stageResult(StageResult(peer: TaskFixture.node(20), round: 2, outcome: .failed("late"))), by: 20) == .added)
        #expect(merge(.stageResult(StageResult(peer: TaskFixture.node(21), round: 2, outcome: .failed("forged"))), by: 20) == .added)
        view = state.view.incremental!
        #expect(view.results[2]?[TaskFixture.node(20)] == result)
        #expect(view.results[2]?[TaskFixture.node(21)] == nil, "signed by another peer")
        // A rollback request stays pending until a step answers it.
        let request = entry(.rollback(RollbackRequest(version: 1, requestedAt: TaskFixture.now)), by: 10)
        #expect(state.merge(request, roles: fixture.lookup, verifier: fixture.cache) == .added)
        #expect(state.view.incremental?.pendingRollbacks.map(\.hash) == [request.hash])
        #expect(merge(step(6, cycle: 1, .rolledBack(to: 1, request: request.hash)), by: 0) == .added)
        view = state.view.incremental!
        #expect(view.pendingRollbacks.isEmpty && view.current?.version == 1 && view.versions.count == 2)
    }

    @Test func theRulesHold() {
        var state = TaskState(spec: signed)
        _ = state.merge(lease(1, by: 0), roles: fixture.lookup, verifier: fixture.cache)
        func refused(_ body: TaskEntryBody, by index: Int) -> Bool {
            if case .added = state.merge(entry(body, by: index), roles: fixture.lookup, verifier: fixture.cache) { return false }
            return true
        }
        #expect(refused(step(1, cycle: 0, .deployed(Self.version(1, parent: 0, cycle: 0))), by: 20), "a plain peer commits no step")
        #expect(refused(step(1, cycle: 0, .training(Self.work)), by: 0), "cycle 0 is the initial deployment")
        #expect(refused(step(1, cycle: 0, .deployed(Self.version(2, parent: 1, cycle: 0))), by: 0), "the initial model is version 1")
        #expect(refused(step(1, cycle: 1, .deployed(Self.version(2, parent: 2, cycle: 1))), by: 0), "a parent is earlier")
        #expect(refused(.rollback(RollbackRequest(version: 1, requestedAt: 1)), by: 20), "a rollback is a submitter's")
        #expect(!refused(step(1, cycle: 0, .deployed(Self.version(1, parent: 0, cycle: 0))), by: 0))
        var federated = fixture.state()
        let inFederated = TaskEntry.sign(step(1, cycle: 0, .deployed(Self.version(1, parent: 0, cycle: 0))), task: fixture.task,
                                         with: TaskFixture.key(0))
        if case .added = federated.merge(inFederated, roles: fixture.lookup, verifier: fixture.cache) {
            Issue.record("a job step was accepted in a FederatedTask")
        }
    }
}
