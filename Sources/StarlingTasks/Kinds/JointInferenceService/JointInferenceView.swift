import StarlingCrypto
import StarlingTrust

/// A deployment on the surviving line, with who signed it.
public struct CommittedDeployment: Hashable, Sendable {
    public let deployment: ServiceDeployment
    public let coordinator: NodeID
    public let entry: ContentHash

    public var version: UInt64 { deployment.version }
}

/// What a JointInferenceService's entries mean: the line's deployments, the last one current.
public struct JointInferenceView: Sendable, Equatable {
    public let deployments: [CommittedDeployment]

    /// The deployment serving peers follow.
    public var current: CommittedDeployment? { deployments.last }

    init(entries: [TaskEntry], line: ProgramLine) {
        var byHash: [ContentHash: ServiceDeployment] = [:]
        for entry in entries {
            if case let .deploy(deployment)? = entry.body.jointInference { byHash[entry.hash] = deployment }
        }
        deployments = line.commits.compactMap { commit in
            byHash[commit.entry].map { CommittedDeployment(deployment: $0, coordinator: commit.coordinator, entry: commit.entry) }
        }
    }
}

extension TaskView {
    /// The JointInferenceService's view, when the task is one.
    public var jointInference: JointInferenceView? {
        if case let .jointInference(view)? = program { return view }
        return nil
    }
}
