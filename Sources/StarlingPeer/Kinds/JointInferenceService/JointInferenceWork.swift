import StarlingCrypto
import StarlingTasks
import StarlingTrust

/// What a serving peer asks its driver for a JointInferenceService: serve these models in these
/// roles, as deployment `version` says (no roles: stop serving the service here). The driver fetches
/// each model's blob from `sources`, starts one long-lived inference worker per role (or hot-swaps
/// the model of the one running), and answers with a `ServingResult` per role.
public struct ServeWork: Sendable, Equatable {
    public let task: TaskID
    public let spec: TaskSpec
    public let version: UInt64
    public let roles: [ServingRole: ServedModel]
    /// The deployment's cloud peers, where an edge sends its hard examples.
    public let cloudPeers: [NodeID]

    public init(task: TaskID, spec: TaskSpec, version: UInt64, roles: [ServingRole: ServedModel], cloudPeers: [NodeID]) {
        self.task = task
        self.spec = spec
        self.version = version
        self.roles = roles
        self.cloudPeers = cloudPeers
    }

    /// The service's name (the task's): what requests name.
    public var service: String { spec.name }
}

/// A model to serve and the peers that hold its blob.
public struct ServedModel: Sendable, Equatable {
    public let model: ContentHash
    public let sources: [BlobSource]

    public init(model: ContentHash, sources: [BlobSource]) {
        self.model = model
        self.sources = sources
    }
}

/// A driver's answer to `ServeWork`, per role.
public struct ServingResult: Sendable, Equatable {
    public let task: TaskID
    public let version: UInt64
    public let role: ServingRole
    /// nil: the role serves the version's model now; else why it does not.
    public let failure: String?

    public init(task: TaskID, version: UInt64, role: ServingRole, failure: String? = nil) {
        self.task = task
        self.version = version
        self.role = role
        self.failure = failure
    }
}
