import StarlingCrypto
import StarlingMembership
import StarlingTasks
import StarlingTrust

/// The JointInferenceService program: the service's control plane (docs/tasks.md, "Joint
/// inference"). As coordinator: resolve the two model names to contents, select the edge and cloud
/// peers, and commit a new deployment (`ServiceDeployment`, a line commit replicated like a round)
/// whenever either changes. As participant: ask the driver to serve what the current deployment
/// gives this peer, once per deployment. Requests never pass through here: the driver's data plane
/// answers them with the served models (edge, then the cloud peers over sealed streams, then the
/// edge's own answer when no cloud answers in time).
enum JointInferenceProgram: TaskProgram {
    typealias Spec = JointInferenceServiceSpec
    typealias WorkResult = ServingResult

    struct Local: Sendable {
        /// Participant: the deployment version and roles last asked of the driver.
        var asked: ServeKey?
        /// Participant: the version each role serves, or why it does not (the driver's answers).
        var served: [ServingRole: UInt64] = [:]
        var failures: [ServingRole: String] = [:]
        /// Coordinator: the last reason no deployment could be made (logged once per reason).
        var waitingFor: String?
    }

    struct ServeKey: Hashable, Sendable {
        let version: UInt64
        let roles: Set<ServingRole>
    }

    static func spec(of spec: TaskSpec) -> Spec? { spec.jointInferenceService }
    static func held(_ local: Local) -> ProgramLocal { .jointInference(local) }
    static func local(_ held: ProgramLocal?) -> Local {
        if case let .jointInference(local)? = held { return local }
        return Local()
    }

    static func coordinators(_ candidates: [CoordinatorElection.Candidate], spec: Spec, host: some TaskHost)
        -> [CoordinatorElection.Candidate] { candidates }

    // MARK: Coordinator

    static func coordinate(_ task: ProgramTask<Spec>, host: some TaskHost, local: inout Local) -> [ProgramEffect] {
        guard let lease = task.lease, let view = task.view.jointInference else { return [] }
        precondition(lease.holder == host.me, "coordinate is called only on the lease holder")
        var effects: [ProgramEffect] = []
        let current = view.current?.deployment
        // A name nobody up declares keeps the deployed model: a deployment can still drop a dead
        // peer or add a new one while the model's declarers are down.
        func resolve(_ name: String, deployed: ContentHash?) -> ServiceModels.Resolution {
            let resolution = ServiceModels.resolve(name, host: host)
            if case .missing = resolution, let deployed { return .held(deployed, holders: []) }
            return resolution
        }
        let edgeModel = resolve(task.spec.edgeWorker.model.name, deployed: current?.edgeModel)
        let cloudModel = resolve(task.spec.cloudWorker.model.name, deployed: current?.cloudModel)
        let peers = ServicePlacement.select(task.state.spec, service: task.spec,
                                            serving: (current?.edgePeers ?? []) + (current?.cloudPeers ?? []), host: host)
        var waiting: String?
        switch (edgeModel, cloudModel) {
        case let (.held(edge, _), .held(cloud, _)):
            guard !peers.edge.isEmpty else {
                waiting = "no live peer is selected for the edge worker (\(ServicePlacement.describeEdge(task.spec)))"
                break
            }
            let version = (task.view.committedRounds.last?.round ?? 0) + 1
            let desired = ServiceDeployment(epoch: lease.epoch, version: version, edgeModel: edge, cloudModel: cloud,
                                            edgePeers: Array(peers.edge.prefix(TaskStateLimits.servingPeersMax)),
                                            cloudPeers: Array(peers.cloud.prefix(TaskStateLimits.servingPeersMax)))
            if let current, current.sameContents(as: desired) { break }
            // Once per deployment committed, not per tick of the coordinator.
            if peers.cloud.isEmpty { effects.append(.count("services.deployed without cloud peers")) }
            let what = current.map { changes(from: $0, to: desired, host: host) } ?? "first deployment"
            effects.append(.count("services.deployments"))
            effects.append(.commit(.jointInference(.deploy(desired)),
                                   log: "service \(task.name) (\(task.id.short)): deployment \(version): \(what)"))
        case let (.unresolved(reason), _), let (.missing(reason), _):
            waiting = "edge model: \(reason)"
        case let (_, .unresolved(reason)), let (_, .missing(reason)):
            waiting = "cloud model: \(reason)"
        }
        if let waiting, waiting != local.waitingFor {
            effects.append(.count("services.deployments waiting"))
            effects.append(.log(.warning, "service \(task.name) (\(task.id.short)) waits: \(waiting)"))
        }
        local.waitingFor = waiting
        return effects
    }

    /// What a new deployment changes, for the log.
    private static func changes(from old: ServiceDeployment, to new: ServiceDeployment, host: some TaskHost) -> String {
        func names(_ nodes: [NodeID]) -> String { nodes.map { host.name(of: $0) ?? $0.short }.joined(separator: ", ") }
        var parts: [String] = []
        if old.edgeModel != new.edgeModel { parts.append("edge model \(new.edgeModel.hex.prefix(12))") }
        if old.cloudModel != new.cloudModel { parts.append("cloud model \(new.cloudModel.hex.prefix(12))") }
        if old.edgePeers != new.edgePeers { parts.append("edge peers [\(names(new.edgePeers))]") }
        if old.cloudPeers != new.cloudPeers { parts.append("cloud peers [\(names(new.cloudPeers))]") }
        return parts.joined(separator: "; ")
    }

    // MARK: Participant

    static func participate(_ task: ProgramTask<Spec>, host: some TaskHost, local: inout Local) -> [ProgramEffect] {
        let deployment = task.view.jointInference?.current?.deployment
        let roles = deployment?.roles(of: host.me) ?? []
        let key = ServeKey(version: deployment?.version ?? 0, roles: roles)
        guard key != local.asked else { return [] }
        // Nothing asked yet and nothing to serve: nothing to stop either.
        if local.asked == nil && roles.isEmpty { return [] }
        local.asked = key
        var served: [ServingRole: ServedModel] = [:]
        if let deployment {
            for role in roles {
                let (model, name, peers) = role == .edge
                    ? (deployment.edgeModel, task.spec.edgeWorker.model.name, deployment.edgePeers)
                    : (deployment.cloudModel, task.spec.cloudWorker.model.name, deployment.cloudPeers)
                served[role] = ServedModel(model: model, sources: ServiceModels.sources(of: model, named: name, servedBy: peers, host: host))
            }
        }
        let work = ServeWork(task: task.id, spec: task.state.spec, version: key.version, roles: served,
                             cloudPeers: deployment?.cloudPeers ?? [])
        return [.work(.serve(work)), .count(roles.isEmpty ? "services.serving stopped" : "services.serving ordered")]
    }

    static func workDone(_ result: ServingResult, task: ProgramTask<Spec>, host: some TaskHost, local: inout Local)
        -> [ProgramEffect] {
        if let failure = result.failure {
            local.failures[result.role] = failure
            return [.count("services.serving failed"),
                    .log(.error, "service \(task.name) (\(task.id.short)): the \(result.role.rawValue) worker cannot serve "
                        + "deployment \(result.version): \(failure)")]
        }
        local.failures[result.role] = nil
        local.served[result.role] = result.version
        return [.count("services.serving started"),
                .log(.info, "service \(task.name) (\(task.id.short)): \(result.role.rawValue) serves deployment \(result.version)")]
    }

    static func summarize(_ task: ProgramTask<Spec>, into summary: inout TaskSummary, host: some TaskHost) {
        guard let current = task.view.jointInference?.current else { return }
        let deployment = current.deployment
        func peers(_ nodes: [NodeID]) -> [TaskSummary.ServicePeer] {
            nodes.map { TaskSummary.ServicePeer(node: $0, nodeName: host.name(of: $0), up: host.isUp($0)) }
        }
        summary.service = TaskSummary.Service(
            version: deployment.version, edgeModel: deployment.edgeModel, cloudModel: deployment.cloudModel,
            edgeModelName: task.spec.edgeWorker.model.name, cloudModelName: task.spec.cloudWorker.model.name,
            edgePeers: peers(deployment.edgePeers), cloudPeers: peers(deployment.cloudPeers),
            hardExampleMining: task.spec.edgeWorker.hardExampleMining.name)
    }
}
