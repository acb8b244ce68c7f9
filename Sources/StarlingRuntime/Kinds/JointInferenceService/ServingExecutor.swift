import StarlingCrypto
import StarlingLearning
import StarlingLocalAPI
import StarlingMembership
import StarlingPeer
import StarlingStore
import StarlingTasks
import StarlingTrust

/// The runtime's executor for JointInferenceService work (docs/runtime.md, "Joint inference"):
/// the services this peer serves, their inference workers, and the data plane that answers
/// requests (`+Edge`: edge worker → hard-example miner → a cloud peer → edge fallback; `+Cloud`:
/// a cloud peer's side). Everything runs on the loop's thread.
final class ServingExecutor {
    /// What the data plane needs of the rest of the runtime.
    struct Network {
        let me: NodeID
        /// Sends one sealed request frame and delivers the one answer (or why there is none).
        let send: (_ bytes: [UInt8], _ to: PeerAddress, _ timeout: Duration,
                   _ completion: @escaping (Result<[UInt8], ExchangeFailure>) -> Void) -> Void
        /// This peer's pairwise keys with another (nil for a key that is no curve point).
        let keys: (PublicKey) -> PairwiseKeys?
        /// Members as the machine sees them now.
        let members: () -> [MemberView]
        let linkQuality: (NodeID) -> Double
        let identity: PublicKey
    }

    final class Service {
        let task: TaskID
        var spec: TaskSpec
        let name: String
        var version: UInt64 = 0
        var workers: [ServingRole: InferenceWorker] = [:]
        /// The version each role's worker serves (loaded), for `task status`.
        var served: [ServingRole: UInt64] = [:]
        var models: [ServingRole: ContentHash] = [:]
        var cloudPeers: [NodeID] = []
        /// nil: nothing is hard (a job with no `hardExampleMining`).
        let miner: HardExampleMiner?
        let config: ServingConfig
        var cloudTimeout: Duration { config.cloudTimeout }
        var stats = ServiceStats()
        /// Values per example the edge model took in its last scored request: requests of another
        /// width are refused (400) without bothering the worker (models do not declare their input).
        var features: Int?
        /// Where hard examples are kept (`hard_examples_dataset`), if the spec asks.
        var hardExamples: HardExampleDataset?
        /// Writes the hard examples buffered for longer than `hardExamplesFlushInterval`.
        var hardExamplesTimer: LoopTimer?

        init(task: TaskID, spec: TaskSpec, miner: HardExampleMiner?, config: ServingConfig) {
            self.task = task
            self.spec = spec
            name = spec.name
            self.miner = miner
            self.config = config
        }
    }

    unowned let runner: TaskRunner
    var network: Network?
    private(set) var services: [TaskID: Service] = [:]
    private var byName: [String: TaskID] = [:]
    /// Serving workers by token (their `worker-serve` hello names it).
    private var tokens: [String: (task: TaskID, role: ServingRole)] = [:]
    var router = CloudRouter()
    var requestsInFlight = 0
    var random = SecureRandom()

    init(runner: TaskRunner) { self.runner = runner }

    func service(named name: String) -> Service? { byName[name].flatMap { services[$0] } }

    // MARK: Work

    /// Serves what `work` gives this peer: each role's model fetched, its worker started or
    /// hot-swapped; a role no longer given is stopped. Each role's outcome is answered.
    func perform(_ work: ServeWork) {
        guard let config = ServingConfig(work.spec) else { return }
        if work.roles.isEmpty {
            release(work.task)
            return
        }
        let service: Service
        if let existing = services[work.task] {
            service = existing
        } else {
            let miner: HardExampleMiner?
            do {
                miner = try config.miner(seed: UInt64(truncatingIfNeeded: work.task.hash.bytes.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }))
            } catch {
                for role in work.roles.keys { answer(work, role, failure: "hardExampleMining: \(error)") }
                return
            }
            service = Service(task: work.task, spec: work.spec, miner: miner, config: config)
            if let name = config.hardExamplesDataset {
                if TaskRunnerCommands.isLabel(name), let store = runner.store {
                    service.hardExamples = HardExampleDataset(name: name, store: store, dataDirectory: runner.dataDirectory)
                } else {
                    runner.log(.warning, "service \(service.name): hard examples are not kept: hard_examples_dataset \(name) is not "
                        + "a dataset name (a DNS-1123 label), or this peer has no store")
                }
            }
            services[work.task] = service
            byName[service.name] = work.task
        }
        service.version = work.version
        service.cloudPeers = work.cloudPeers
        for role in ServingRole.allCases where work.roles[role] == nil {
            if let worker = service.workers.removeValue(forKey: role) {
                tokens[worker.token] = nil
                worker.stop()
                service.served[role] = nil
                service.models[role] = nil
            }
        }
        for (role, served) in work.roles {
            // Without hot updates (an IncrementalLearningJob's `hotUpdateEnabled: false`), a new
            // model restarts the worker.
            if !config.hotUpdate, let old = service.models[role], old != served.model, let worker = service.workers.removeValue(forKey: role) {
                tokens[worker.token] = nil
                worker.stop()
                service.served[role] = nil
                runner.counters.increment("serving.restarts_for_a_new_model")
            }
            service.models[role] = served.model
            runner.blobs.fetchBlob(served.model, from: served.sources) { [weak self] result in
                guard let self, let service = self.services[work.task], service.version == work.version else { return }
                switch result {
                case let .success(path):
                    self.worker(for: service, role: role).serve(version: work.version, path: path)
                    self.keepCopy(of: path, version: work.version, service: service)
                case let .failure(error):
                    self.runner.counters.increment("serving.model_fetch_failed")
                    self.answer(work, role, failure: "cannot fetch model \(served.model.hex.prefix(12)): \(error)")
                }
            }
        }
    }

    /// A job's `outputDir`: a copy of each version served, for whatever else reads models there.
    /// A copy that cannot be written is logged and counted; serving goes on.
    private func keepCopy(of path: String, version: UInt64, service: Service) {
        guard let directory = service.config.outputDirectory else { return }
        let absolute = WorkerLaunch.absolute(directory, in: runner.launch.baseDirectory)
        let target = "\(absolute)/\(service.config.modelName)-v\(version).safetensors"
        do {
            try POSIXFile.makeDirectories(absolute, mode: 0o755)
            try POSIXFile.writeAtomically(POSIXFile.read(path, limit: LearningLimits.modelBytesMax), to: target, mode: 0o644, replace: true)
        } catch {
            runner.counters.increment("serving.output_copies_failed")
            runner.log(.warning, "job \(service.name): cannot write version \(version) to outputDir \(target): \(error)")
        }
    }

    /// The service ended here: its workers stop, its requests in progress fail over to nothing.
    func release(_ task: TaskID) {
        guard let service = services.removeValue(forKey: task) else { return }
        if byName[service.name] == task { byName[service.name] = nil }
        flushHardExamples(service)
        service.hardExamplesTimer?.close()
        service.hardExamplesTimer = nil
        for worker in service.workers.values {
            tokens[worker.token] = nil
            worker.stop()
        }
        service.workers = [:]
    }

    func shutdown() {
        for task in Array(services.keys) { release(task) }
    }

    private func worker(for service: Service, role: ServingRole) -> InferenceWorker {
        if let worker = service.workers[role] { return worker }
        let token = WorkerLaunch.newToken()
        let spec = service.spec
        let task = service.task
        guard let (workerSpec, modelName) = service.config.worker(for: role) else {
            preconditionFailure("a \(role.rawValue) worker is started only for a kind with that role")
        }
        let launch = runner.launch
        let worker = InferenceWorker(
            task: task, role: role, token: token, loop: runner.loop,
            log: WorkerLog(directory: TaskRunner.logDirectory(runner.dataDirectory, task: task), worker: role.rawValue),
            counters: runner.counters,
            launch: { try launch.serveCommand(task: task, spec: spec, role: role.rawValue, worker: workerSpec, modelName: modelName,
                                              token: token) })
        worker.onLoaded = { [weak self, weak service] version, failure in
            guard let self, let service else { return }
            if failure == nil { service.served[role] = version }
            self.runner.answer(.serving(ServingResult(task: task, version: version, role: role, failure: failure)))
        }
        service.workers[role] = worker
        tokens[token] = (task, role)
        return worker
    }

    private func answer(_ work: ServeWork, _ role: ServingRole, failure: String) {
        runner.answer(.serving(ServingResult(task: work.task, version: work.version, role: role, failure: failure)))
    }

    /// `cloud_timeout_ms` among the edge worker's parameters, else `ServingLimits.cloudTimeoutDefault`;
    /// bounded by `cloudTimeoutMax`.
    static func cloudTimeout(_ spec: JointInferenceServiceSpec) -> Duration {
        guard let text = spec.edgeWorker.workerSpec.parameters.first(where: { $0.key == "cloud_timeout_ms" })?.value,
              let millis = Int(text), millis > 0 else { return ServingLimits.cloudTimeoutDefault }
        return min(.milliseconds(millis), ServingLimits.cloudTimeoutMax)
    }

    // MARK: Worker connections

    /// An inference worker's `worker-serve` hello: welcomed and attached when its token is one
    /// this peer gave, refused (`no-worker`: the worker exits) otherwise.
    func serveHello(_ hello: ServeHello, connection: StreamConnection, leftover: [UInt8]) {
        guard let (task, role) = tokens[hello.identity.token], task.text == hello.identity.task,
              let service = services[task], let worker = service.workers[role], worker.token == hello.identity.token else {
            runner.counters.increment("serving.hello_refused")
            _ = connection.write(LocalAPI.line(ErrorResponse(.noWorker, "this peer runs no inference worker with that token")))
            connection.shutdown()
            return
        }
        switch connection.write(LocalAPI.line(ServeWelcome(role: role.rawValue, service: service.name))) {
        case .queued: worker.attach(connection, leftover: leftover)
        case .overBudget, .failed: connection.close()
        }
    }

    // MARK: Status

    /// What `task status` shows of this peer's serving of `task` (nil when it serves none of it).
    func report(_ task: TaskID) -> ServingReport? {
        guard let service = services[task] else { return nil }
        let stats = service.stats
        let total = stats.examples.values.reduce(0, +)
        return ServingReport(
            roles: service.workers.keys.map(\.rawValue).sorted(),
            versions: Dictionary(uniqueKeysWithValues: service.served.map { ($0.key.rawValue, $0.value) }),
            requests: stats.requests, refused: stats.refused,
            examples: Dictionary(uniqueKeysWithValues: stats.examples.map { ($0.key.rawValue, $0.value) }),
            hardExamples: stats.hardExamples, hardShare: total == 0 ? 0 : Double(stats.hardExamples) / Double(total),
            badScores: stats.badScores, cloudServed: stats.cloudServed, fallbackReasons: stats.fallbackReasons,
            latency: stats.percentiles(),
            openCircuits: service.cloudPeers.filter { router.isOpen($0) }.map(\.text))
    }
}
