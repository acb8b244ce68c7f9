/// A validated task spec: what a user submitted, with every default filled in.
///
/// This is the value a peer signs and gossips; the task id is the hash of its signed canonical
/// bytes (`wireBytes`), so two files that mean the same task (seed form or tidy form, parameters
/// in any order) give the same value and the same bytes. It holds no line numbers and no warnings.
public struct TaskSpec: Sendable, Equatable {
    /// The only accepted `apiVersion`.
    public static let apiVersion = "edgeai.io/v1alpha1"

    /// `metadata.name`: a DNS-1123 label.
    public var name: String
    /// `metadata.labels`, sorted by key.
    public var labels: [TaskTag]
    /// `spec.placement`: which peers may run the task (empty: any peer).
    public var placement: Placement
    /// `spec.coordinator`: which of those may coordinate it (empty: any of them).
    public var coordinator: Placement
    /// The kind and its own fields.
    public var kind: Kind

    public enum Kind: Sendable, Equatable {
        case federatedTask(FederatedTaskSpec)
        case incrementalLearningJob(IncrementalLearningJobSpec)
        case jointInferenceService(JointInferenceServiceSpec)

        /// The `kind:` text.
        public var name: String { kindName.rawValue }

        public var kindName: TaskKindName {
            switch self {
            case .federatedTask: return .federatedTask
            case .incrementalLearningJob: return .incrementalLearningJob
            case .jointInferenceService: return .jointInferenceService
            }
        }
    }

    public init(name: String, labels: [TaskTag] = [], placement: Placement = Placement(),
                coordinator: Placement = Placement(), kind: Kind) {
        self.name = name
        self.labels = labels.sorted()
        self.placement = placement
        self.coordinator = coordinator
        self.kind = kind
    }

    /// The joint inference service, when this is one.
    public var jointInferenceService: JointInferenceServiceSpec? {
        if case let .jointInferenceService(spec) = kind { return spec }
        return nil
    }

    /// The incremental learning job, when this is one.
    public var incrementalLearningJob: IncrementalLearningJobSpec? {
        if case let .incrementalLearningJob(spec) = kind { return spec }
        return nil
    }

    /// The federated task, when this is one.
    public var federatedTask: FederatedTaskSpec? {
        if case let .federatedTask(spec) = kind { return spec }
        return nil
    }
}

/// The accepted `kind:` values.
public enum TaskKindName: String, Sendable, CaseIterable {
    case federatedTask = "FederatedTask"
    case incrementalLearningJob = "IncrementalLearningJob"
    case jointInferenceService = "JointInferenceService"
}

/// A `key: value` pair of a label or tag map.
public struct TaskTag: Sendable, Equatable, Comparable {
    public var key: String
    public var value: String

    public init(_ key: String, _ value: String) {
        self.key = key
        self.value = value
    }

    public static func < (left: TaskTag, right: TaskTag) -> Bool { left.key < right.key }
}

/// Which peers qualify, by their membership tags: a peer qualifies when it has every tag listed,
/// with the same value. No tags: every peer qualifies.
public struct Placement: Sendable, Equatable {
    /// Sorted by key, keys unique.
    public var tags: [TaskTag]

    public init(tags: [TaskTag] = []) {
        self.tags = tags.sorted()
    }

    /// Whether a peer with `peerTags` qualifies.
    public func matches(_ peerTags: [String: String]) -> Bool {
        tags.allSatisfy { peerTags[$0.key] == $0.value }
    }
}
