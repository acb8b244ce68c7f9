import StarlingCrypto
import StarlingMembership
import StarlingTasks
import StarlingTrust

/// Who coordinates, where workers run, and which model round 1 starts from.
extension FederatedProgram {
    /// Central evaluation runs where its dataset is: while a candidate declares it, only those
    /// that do may coordinate; with none alive, any may (the rounds go on, unscored centrally).
    static func coordinators(_ candidates: [CoordinatorElection.Candidate], spec: Spec, host: some TaskHost)
        -> [CoordinatorElection.Candidate] {
        guard let dataset = spec.aggregationWorker.evaluationDataset?.name else { return candidates }
        let holders = candidates.filter { DatasetTags.holds(dataset, tags: host.tags(of: $0.node)) }
        return holders.isEmpty ? candidates : holders
    }

    enum StartingModel {
        /// Round 1 starts from `STARLING_SEED`: the task names no model, or no live peer declares it.
        case seed
        /// Not yet: the model is being fetched here, or peers declare different contents for it.
        case waiting
        case held(ContentHash)
    }

    /// Round 1's base: the model `aggregationWorker.model.name` names when live peers declare it
    /// imported (`ModelTags`), once this coordinator holds it (asked held from its declarers,
    /// asked again every `startingModelRetry`). Peers declaring different contents under the name
    /// hold the round back, logged once, until they agree.
    static func startingModel(_ task: ProgramTask<Spec>, host: some TaskHost, local: inout Local,
                              effects: inout [ProgramEffect]) -> StartingModel {
        guard let modelName = task.spec.aggregationWorker.model?.name, !modelName.isEmpty else { return .seed }
        let declarers = ModelTags.declarers(of: modelName, among: host.aliveNodes.map { (peer: $0, tags: host.tags(of: $0)) })
        guard declarers.count <= 1 else {
            if !local.startingModelConflict {
                local.startingModelConflict = true
                effects.append(.count("tasks.starting model conflicts"))
                let who = declarers.sorted { $0.key < $1.key }.map { hash, nodes in
                    "\(hash.hex.prefix(12)) by \(nodes.map { host.name(of: $0) ?? $0.short }.sorted().joined(separator: ", "))"
                }
                effects.append(.log(.error, "task \(task.name) (\(task.id.short)): peers declare "
                    + "different models named \(modelName) (\(who.joined(separator: "; "))): round 1 waits until they agree "
                    + "(starling model import or model remove on those peers)"))
            }
            return .waiting
        }
        local.startingModelConflict = false
        guard let (model, holders) = declarers.first else { return .seed }
        if host.holdsModel(model) { return .held(model) }
        if let asked = local.startingModel, asked.model == model,
           task.now - asked.askedAt < host.taskSettings.startingModelRetry {
            return .waiting
        }
        local.startingModel = StartingModelAsk(model: model, askedAt: task.now)
        effects.append(.count("tasks.starting models ordered"))
        effects.append(.work(.holdModel(task: task.id, round: 0, model: model,
                                        sources: holders.sorted().compactMap { host.blobSource($0) })))
        return .waiting
    }

    /// Where each training worker runs this round: its `nodeName` peer when that is live, else
    /// (placement by dataset) the live placed peer holding the worker's dataset that rendezvous
    /// hashing ranks first for the worker among those not given a worker yet (so workers spread
    /// over peers while there are enough), else among all holders. A worker that cannot be placed
    /// (its node or every holder of its dataset gone) is left out of the round and counted.
    static func placeWorkers(_ id: TaskID, spec: TaskSpec, federated: FederatedTaskSpec, host: some TaskHost) -> [Participant] {
        let placed = host.aliveNodes.filter { TaskPlacementMatcher.matches(spec, tags: host.tags(of: $0)).placed }
        var byName: [String: NodeID] = [:]
        for node in placed { if let name = host.name(of: node) { byName[name] = node } }
        var used: Set<NodeID> = []
        for worker in federated.trainingWorkers {
            if let nodeName = worker.nodeName, let node = byName[nodeName] { used.insert(node) }
        }
        let anyDeclared = placed.contains { !DatasetTags.declared(in: host.tags(of: $0)).isEmpty }
        return federated.trainingWorkers.compactMap { worker -> Participant? in
            if let nodeName = worker.nodeName {
                return byName[nodeName].map { Participant(worker: worker.name, node: $0) }
            }
            func score(_ node: NodeID) -> ContentHash {
                ContentHash.of(id.hash.bytes + Array(worker.name.utf8) + node.publicKey.bytes)
            }
            // A worker whose dataset no live peer declares is left out of the round (its data left
            // with its peer: the round goes on with the others). In a cluster where no peer declares
            // any dataset (the simulator), placement ignores datasets.
            let declaring = placed.filter { DatasetTags.holds(worker.dataset.name, tags: host.tags(of: $0)) }
            let holders = anyDeclared ? declaring : placed
            let free = holders.filter { !used.contains($0) }
            guard let best = (free.isEmpty ? holders : free).max(by: { score($0) < score($1) }) else { return nil }
            used.insert(best)
            return Participant(worker: worker.name, node: best)
        }.sorted()
    }
}
