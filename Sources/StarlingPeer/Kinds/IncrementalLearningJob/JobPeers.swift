import StarlingCrypto
import StarlingMembership
import StarlingTasks
import StarlingTrust

/// Which peers work for an IncrementalLearningJob, and what they hold.
/// - Train: the peer named by `trainSpec.nodeName`; else every live placed peer that declares the
///   job's dataset (one: local training; several: their updates are averaged, a federated round).
/// - Eval: the peer named by `evalSpec.nodeName`; else the cycle's training peers.
/// - Deploy (serving the current version): the peer named by `deploySpec.nodeName`; else every
///   placed peer that declares the dataset, where the data arrives. Each peer decides this for
///   itself from its own tags.
enum JobPeers {
    static func trainers(_ task: ProgramTask<IncrementalLearningJobSpec>, host: some TaskHost) -> [NodeID] {
        holders(task, named: task.spec.trainSpec.nodeName, host: host)
    }

    static func evaluators(_ task: ProgramTask<IncrementalLearningJobSpec>, training: StageWork, host: some TaskHost) -> [NodeID] {
        guard let name = task.spec.evalSpec.nodeName else { return training.peers.filter { host.isUp($0) } }
        return holders(task, named: name, host: host)
    }

    private static func holders(_ task: ProgramTask<IncrementalLearningJobSpec>, named name: String?, host: some TaskHost) -> [NodeID] {
        host.aliveNodes.filter { node in
            let tags = host.tags(of: node)
            guard TaskPlacementMatcher.matches(task.state.spec, tags: tags).placed, rows(of: node, task.spec, host: host) != nil else {
                return false
            }
            return name.map { host.name(of: node) == $0 } ?? true
        }.sorted()
    }

    /// The rows `node` declares for the job's dataset (its gossiped sample count), nil when it
    /// declares none.
    static func rows(of node: NodeID, _ spec: IncrementalLearningJobSpec, host: some TaskHost) -> UInt64? {
        DatasetTags.declared(in: host.tags(of: node)).first { $0.name == spec.dataset.name }?.samples
    }

    /// Whether this peer serves the job's current version.
    static func deploysHere(_ task: ProgramTask<IncrementalLearningJobSpec>, host: some TaskHost) -> Bool {
        if let name = task.spec.deploySpec.nodeName { return host.name(of: host.me) == name }
        let tags = host.tags(of: host.me)
        return TaskPlacementMatcher.matches(task.state.spec, tags: tags).placed && DatasetTags.holds(task.spec.dataset.name, tags: tags)
    }

    static func describeTrainers(_ spec: IncrementalLearningJobSpec) -> String {
        spec.trainSpec.nodeName.map { "the peer \($0) (trainSpec.nodeName) declaring dataset \(spec.dataset.name)" }
            ?? "a live placed peer declaring dataset \(spec.dataset.name) (starling dataset add \(spec.dataset.name) --path FILE)"
    }
}

/// Where a job's models can be fetched.
enum JobModels {
    /// The committer of the step that made `model` (it combined it) and the candidates that
    /// replicated that step; for the initial model, the peers that declare or committed it. Then
    /// the peers `also` (for example those serving it). Live ones other than this peer.
    static func sources(of model: ContentHash, _ task: ProgramTask<IncrementalLearningJobSpec>, also: [NodeID] = [],
                        host: some TaskHost) -> [BlobSource] {
        var nodes: [NodeID] = []
        if let step = task.view.incremental?.step(making: model) {
            nodes.append(step.coordinator)
            nodes += task.view.replicatedBy[step.transition.ref] ?? []
        }
        if case let .held(hash, holders) = ServiceModels.resolve(task.spec.initialModel.name, host: host), hash == model {
            nodes += holders
        }
        nodes += also
        var seen: Set<NodeID> = []
        return nodes.filter { $0 != host.me && host.isUp($0) && seen.insert($0).inserted }.compactMap { host.blobSource($0) }
    }
}
