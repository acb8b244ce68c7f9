import StarlingCrypto
import StarlingTrust

/// A JointInferenceService's deployment (docs/tasks.md, "Joint inference"): which models serve, and
/// on which peers. The coordinator commits one on the task's line (the line's round is the
/// deployment's version) whenever a model name resolves to new contents or a selected peer is not
/// listed yet; serving peers follow the latest (hot-swapping a model without a restart). Requests
/// themselves never touch the task state.
public struct ServiceDeployment: Hashable, Sendable {
    public let epoch: UInt64
    /// The line's round: 1, 2, … one per deployment.
    public let version: UInt64
    /// The blob of the edge model and of the cloud model.
    public let edgeModel: ContentHash
    public let cloudModel: ContentHash
    /// Peers that run an edge worker, and those that run a cloud worker; sorted, unique.
    public let edgePeers: [NodeID]
    public let cloudPeers: [NodeID]

    public init(epoch: UInt64, version: UInt64, edgeModel: ContentHash, cloudModel: ContentHash, edgePeers: [NodeID],
                cloudPeers: [NodeID]) {
        self.epoch = epoch
        self.version = version
        self.edgeModel = edgeModel
        self.cloudModel = cloudModel
        self.edgePeers = Array(Set(edgePeers)).sorted()
        self.cloudPeers = Array(Set(cloudPeers)).sorted()
    }

    /// The deployment as a line commit. The models are named in the entry, not in the ref: the
    /// host's replication fetches a ref's model before it acknowledges, and a service's models are
    /// fetched by the peers that serve them, from the peers that declare them.
    public var ref: CommitRef { CommitRef(epoch: epoch, round: version, modelHash: ModelHash.none) }

    /// The roles `node` has in this deployment.
    public func roles(of node: NodeID) -> Set<ServingRole> {
        var roles: Set<ServingRole> = []
        if edgePeers.contains(node) { roles.insert(.edge) }
        if cloudPeers.contains(node) { roles.insert(.cloud) }
        return roles
    }

    /// The same models and peers (what a new deployment would change).
    public func sameContents(as other: ServiceDeployment) -> Bool {
        edgeModel == other.edgeModel && cloudModel == other.cloudModel && edgePeers == other.edgePeers
            && cloudPeers == other.cloudPeers
    }
}

/// What a serving peer runs for a service.
public enum ServingRole: String, Hashable, Sendable, CaseIterable, Comparable {
    /// The small model: answers every request, sends the hard examples on.
    case edge
    /// The big model: answers the hard examples edges send it.
    case cloud

    public static func < (left: ServingRole, right: ServingRole) -> Bool { left.rawValue < right.rawValue }
}
