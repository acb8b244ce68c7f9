import StarlingCrypto
import StarlingMembership
@testable import StarlingTasks
import StarlingTrust

/// A small cluster for task-state tests: deterministic keys, certified roles, one federated task.
struct TaskFixture {
    static let now: UInt64 = 1_800_000_000
    static let workers = ["w0", "w1", "w2", "w3"]

    let cache = SignatureCache()
    /// Coordinators are 0...4, the submitter is 10, plain peers 20...22, a node with every role 30.
    var roles: [NodeID: Roles] = [:]
    let signedSpec: SignedTaskSpec

    init(rounds: Int = 50) {
        for index in 0...4 { roles[Self.node(index)] = [.peer, .coordinator] }
        roles[Self.node(10)] = [.peer, .submit]
        for index in 20...22 { roles[Self.node(index)] = [.peer] }
        roles[Self.node(30)] = [.peer, .coordinator, .submit, .admin]
        // A submitter key never fails to sign a valid spec.
        signedSpec = try! SignedTaskSpec.sign(Self.spec(rounds: rounds), submittedAt: Self.now, with: Self.key(10))
    }

    static func key(_ index: Int) -> SigningKey { try! SigningKey(seed: [UInt8](repeating: UInt8(index + 1), count: 32)) }
    static func node(_ index: Int) -> NodeID { NodeID(key(index).publicKey) }

    static func spec(rounds: Int = 50, placement: [TaskTag] = [], coordinator: [TaskTag] = []) -> TaskSpec {
        let script = ScriptSpec(bootFile: .builtin(.logreg))
        let workers = Self.workers.map { TrainingWorker(name: $0, dataset: DatasetRef(name: "digits"), script: script) }
        let federated = FederatedTaskSpec(aggregationWorker: AggregationWorker(), trainingWorkers: workers,
                                          rounds: RoundSettings(rounds: rounds, minNodeNumber: 2))
        return TaskSpec(name: "demo", placement: Placement(tags: placement), coordinator: Placement(tags: coordinator),
                        kind: .federatedTask(federated))
    }

    var task: TaskID { signedSpec.id }
    var lookup: RoleLookup { { [roles] node in roles[node] } }

    func state() -> TaskState { TaskState(spec: signedSpec) }

    func entry(_ body: TaskEntryBody, by index: Int) -> TaskEntry {
        TaskEntry.sign(body, task: task, with: Self.key(index))
    }

    static func model(_ tag: UInt8) -> ContentHash { ContentHash.of([tag]) }

    func lease(_ epoch: UInt64, by index: Int, base: CommitRef? = nil, expiresAt: UInt64 = now + 60,
               renewal: UInt32 = 0, capacity: Double = 1) -> TaskEntry {
        entry(.lease(Lease(epoch: epoch, holder: Self.node(index), base: base, expiresAt: expiresAt,
                           renewal: renewal, capacity: capacity)), by: index)
    }

    func commit(_ epoch: UInt64, round: UInt64, by index: Int, model: UInt8? = nil) -> TaskEntry {
        let hash = Self.model(model ?? UInt8(truncatingIfNeeded: round &* 7 &+ epoch))
        return entry(.commit(RoundCommit(epoch: epoch, round: round, modelHash: hash, participants: ["w0", "w1"],
                                         sampleCount: 100, metrics: [try! Metric(name: "loss", value: 0.5)])), by: index)
    }

    /// The ref of a commit entry made by `commit`.
    static func ref(_ entry: TaskEntry) -> CommitRef? {
        if case let .commit(commit)? = entry.body.federated { return commit.ref }
        return nil
    }

    func announce(_ epoch: UInt64, round: UInt64, by index: Int, deadline: UInt64 = now + 300) -> TaskEntry {
        entry(.announce(RoundAnnouncement(epoch: epoch, round: round, baseModel: ModelHash.none,
                                          participants: [Participant(worker: "w0", node: Self.node(20))],
                                          deadline: deadline)), by: index)
    }

    func report(_ worker: String, epoch: UInt64 = 1, round: UInt64, state: WorkerState, by index: Int = 20,
                message: String = "") -> TaskEntry {
        entry(.report(WorkerReport(worker: worker, epoch: epoch, round: round, state: state, message: message)), by: index)
    }

    /// Merges every entry and expects each to be added.
    func merged(_ entries: [TaskEntry], into state: TaskState? = nil) -> (TaskState, [MergeOutcome]) {
        var state = state ?? self.state()
        let outcomes = entries.map { state.merge($0, roles: lookup, verifier: cache) }
        return (state, outcomes)
    }
}

/// A small seeded generator (SplitMix64) for the property tests.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
