import StarlingCrypto
import StarlingMembership
import StarlingPeer
import StarlingTasks
import StarlingTrust

/// Task specs and readings of task state for the peer tests.
enum TestSpec {
    /// A federated task with `workers` training workers w0, w1, ... placed by dataset (no peer
    /// declares datasets here, so any peer may run any of them).
    static func federated(name: String = "demo", workers: Int = 3, minNodeNumber: Int, rounds: Int = 3,
                          roundTimeout: Duration = .seconds(60)) -> TaskSpec {
        let script = ScriptSpec(bootFile: .builtin(.logreg))
        let training = (0..<workers).map { TrainingWorker(name: "w\($0)", dataset: DatasetRef(name: "digits"), script: script) }
        let settings = RoundSettings(rounds: rounds, minNodeNumber: minNodeNumber, roundTimeout: roundTimeout)
        return TaskSpec(name: name, kind: .federatedTask(FederatedTaskSpec(
            aggregationWorker: AggregationWorker(), trainingWorkers: training, rounds: settings)))
    }
}

extension PeerCluster {
    /// The peers in the order the election ranks them for `task` (equal capacities, perfect links:
    /// what every peer measures here).
    func ranking(of task: TaskID, among peers: [Int]? = nil) -> [Int] {
        let candidates = (peers ?? Array(nodes.indices)).map { CoordinatorElection.Candidate(node: nodes[$0], capacity: 1) }
        return CoordinatorElection.rank(task: task, candidates: candidates).compactMap(index(of:))
    }

    /// `spec` renamed (name-0, name-1, ...) until, submitted by `submitter` now, its id ranks the
    /// submitter at `rank`: so a test can make the peer that hears of a task first a poor candidate.
    func spec(_ spec: TaskSpec, submittedBy submitter: Int, ranked rank: Int) -> TaskSpec {
        for attempt in 0..<1_000 {
            var renamed = spec
            renamed.name = "\(spec.name)-\(attempt)"
            let id = try! SignedTaskSpec.sign(renamed, submittedAt: unixNow, with: keys[submitter]).id
            if ranking(of: id).firstIndex(of: submitter) == rank { return renamed }
        }
        fatalError("no name of \(spec.name) ranks peer \(submitter) at \(rank)")
    }

    /// The peer holding the current lease in `peer`'s view.
    func holder(of task: TaskID, at peer: Int) -> Int? {
        view(task, at: peer)?.currentLease.flatMap { index(of: $0.holder) }
    }
}

extension TaskState {
    /// Every kept lease (one per epoch and holder: the latest renewal).
    var leases: [Lease] {
        entries.compactMap { if case let .lease(lease) = $0.body { return lease } else { return nil } }
    }

    /// Commit entries with their commits.
    var commits: [(entry: TaskEntry, commit: RoundCommit)] {
        entries.compactMap { if case let .commit(commit)? = $0.body.federated { return ($0, commit) } else { return nil } }
    }

    var announcements: [(entry: TaskEntry, announcement: RoundAnnouncement)] {
        entries.compactMap { if case let .announce(announcement)? = $0.body.federated { return ($0, announcement) } else { return nil } }
    }

    var reports: [(entry: TaskEntry, report: WorkerReport)] {
        entries.compactMap { if case let .report(report)? = $0.body.federated { return ($0, report) } else { return nil } }
    }

    /// `replicated` entries naming `ref`.
    func replications(of ref: CommitRef) -> [TaskEntry] {
        entries.filter { if case let .replicated(named) = $0.body { return named == ref } else { return false } }
    }
}

extension TestSpec {
    /// The tag that makes a peer a cloud peer (and a coordinator candidate) of `service`'s tasks.
    static let cloudTag = TaskTag("tier", "cloud")

    /// A JointInferenceService serving the model named `edgeModel` at the edge and `cloudModel` in
    /// the cloud, coordinated (and served in the cloud) by the peers with `cloudTag`.
    static func service(name: String = "serve", edgeModel: String = "small", cloudModel: String = "big") -> TaskSpec {
        let worker = WorkerSpec(script: ScriptSpec(bootFile: .builtin(.logreg)))
        let service = JointInferenceServiceSpec(
            edgeWorker: EdgeInferenceWorker(model: ModelRef(name: edgeModel), hardExampleMining: HardExampleMining(name: "CrossEntropy"),
                                            workerSpec: worker),
            cloudWorker: CloudInferenceWorker(model: ModelRef(name: cloudModel), workerSpec: worker))
        return TaskSpec(name: name, coordinator: Placement(tags: [cloudTag]), kind: .jointInferenceService(service))
    }
}

extension PeerCluster {
    /// The deployment `peer` follows for `task`.
    func deployment(_ task: TaskID, at peer: Int) -> ServiceDeployment? {
        view(task, at: peer)?.jointInference?.current?.deployment
    }

    /// The `.serve` orders given for `task`, optionally only those of one peer.
    func serveOrders(for task: TaskID, at peer: Int? = nil) -> [(sequence: Int, peer: Int, work: ServeWork)] {
        orders(for: task, at: peer).compactMap { order in
            if case let .serve(work) = order.work { return (order.sequence, order.peer, work) }
            return nil
        }
    }

    /// The NodeIDs of these peers, sorted (as a deployment lists them).
    func sortedNodes(_ peers: [Int]) -> [NodeID] { peers.map { nodes[$0] }.sorted() }
}

extension TestSpec {
    /// An IncrementalLearningJob on dataset `incoming` from the model named `initial`: train when
    /// more than `samples` new training rows are in, deploy when accuracy improves.
    static func job(name: String = "learn", samples: Double = 100, deployMetric: String = "accuracy_delta",
                    trainNode: String? = nil, checkPeriodSeconds: Int = 5) -> TaskSpec {
        let worker = WorkerSpec(script: ScriptSpec(bootFile: .builtin(.logreg)))
        let train = Trigger(checkPeriodSeconds: checkPeriodSeconds,
                            condition: TriggerCondition(metric: "num_of_samples", comparison: .greater, threshold: samples))
        let deploy = Trigger(checkPeriodSeconds: 1, condition: TriggerCondition(metric: deployMetric, comparison: .greater, threshold: 0))
        return TaskSpec(name: name, coordinator: Placement(tags: [cloudTag]), kind: .incrementalLearningJob(IncrementalLearningJobSpec(
            initialModel: ModelRef(name: "initial"), dataset: IncrementalDataset(name: "incoming", trainProbability: 0.8),
            trainSpec: IncrementalTrainSpec(nodeName: trainNode, workerSpec: worker, trigger: train),
            evalSpec: IncrementalEvalSpec(workerSpec: worker),
            deploySpec: IncrementalDeploySpec(model: ModelRef(name: "deployed"), workerSpec: worker, trigger: deploy))))
    }
}
