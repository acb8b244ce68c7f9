import StarlingLearning
import StarlingTasks

/// What serving needs of a task's spec, for the two kinds that serve: a JointInferenceService
/// (edge and cloud workers, a miner, hard examples sent to the cloud) and an IncrementalLearningJob's
/// deploy peers (one edge worker serving the job's current version, under the job's name, with no
/// cloud: hard examples are counted, never sent).
struct ServingConfig {
    let miningName: String?
    let miningParameters: [(key: String, value: String?)]
    let cloudTimeout: Duration
    /// `hard_examples_dataset` among the edge worker's parameters (JointInferenceService only:
    /// kept examples are labelled by the cloud).
    let hardExamplesDataset: String?
    /// A new version is loaded into the running worker; false: the worker is restarted on it.
    let hotUpdate: Bool
    let asksCloud: Bool
    /// A job's `outputDir`: each version a deploy peer serves is also written there, as
    /// `MODEL-vN.safetensors` (MODEL: `deploySpec.model.name`).
    let outputDirectory: String?
    let modelName: String
    private let edge: (worker: WorkerSpec, model: String)
    private let cloud: (worker: WorkerSpec, model: String)?

    init?(_ spec: TaskSpec) {
        if let service = spec.jointInferenceService {
            let mining = service.edgeWorker.hardExampleMining
            miningName = mining.name
            miningParameters = mining.parameters.map { ($0.key, $0.value) }
            cloudTimeout = ServingExecutor.cloudTimeout(service)
            let name = service.edgeWorker.workerSpec.parameters.first { $0.key == "hard_examples_dataset" }?.value
            hardExamplesDataset = name.flatMap { $0.isEmpty ? nil : $0 }
            hotUpdate = true
            asksCloud = true
            outputDirectory = nil
            modelName = service.edgeWorker.model.name
            edge = (service.edgeWorker.workerSpec, service.edgeWorker.model.name)
            cloud = (service.cloudWorker.workerSpec, service.cloudWorker.model.name)
        } else if let job = spec.incrementalLearningJob {
            let deploy = job.deploySpec
            miningName = deploy.hardExampleMining?.name
            miningParameters = deploy.hardExampleMining?.parameters.map { ($0.key, $0.value) } ?? []
            cloudTimeout = ServingLimits.cloudTimeoutDefault
            hardExamplesDataset = nil
            hotUpdate = deploy.hotUpdateEnabled
            asksCloud = false
            outputDirectory = job.outputDirectory
            modelName = deploy.model.name
            edge = (deploy.workerSpec, deploy.model.name)
            cloud = nil
        } else {
            return nil
        }
    }

    /// The worker spec and model name of a role (nil: the kind has no such role).
    func worker(for role: ServingRole) -> (worker: WorkerSpec, model: String)? {
        role == .edge ? edge : cloud
    }

    /// The spec's miner; nil when it names none (a job without `hardExampleMining`).
    func miner(seed: UInt64) throws -> HardExampleMiner? {
        guard let miningName else { return nil }
        return try HardExampleMiner(name: miningName, parameters: miningParameters, seed: seed)
    }
}
