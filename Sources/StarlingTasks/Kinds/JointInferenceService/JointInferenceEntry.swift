import StarlingTrust
import StarlingWire

/// A JointInferenceService's own entries: the coordinator's deployments (a commit on the line).
public enum JointInferenceEntry: Hashable, Sendable, KindEntry {
    case deploy(ServiceDeployment)

    var taskKind: TaskKindName { .jointInferenceService }
    public var kind: TaskEntryKind { .deploy }
    var requiredRole: Roles { .coordinator }
    var lineCommit: CommitRef? {
        switch self {
        case let .deploy(deployment): return deployment.ref
        }
    }

    var holderStep: HolderStep? { nil }
    var slot: EntrySlot? { nil }

    func problem(spec: TaskSpec) -> String? {
        guard spec.jointInferenceService != nil else { return "not a JointInferenceService" }
        switch self {
        case let .deploy(deployment):
            if let problem = TaskEntry.roundProblem(epoch: deployment.epoch, round: deployment.version,
                                                    roundsMax: TaskStateLimits.roundMax) {
                return problem
            }
            if deployment.edgePeers.isEmpty { return "a deployment needs at least one edge peer" }
            if deployment.edgeModel == ModelHash.none || deployment.cloudModel == ModelHash.none {
                return "a deployment names both models"
            }
        }
        return nil
    }

    func encode(to writer: inout WireWriter) {
        switch self {
        case let .deploy(deployment): writer.write(deployment)
        }
    }

    static func decode(_ kind: TaskEntryKind, from reader: inout WireReader) throws -> JointInferenceEntry {
        switch kind {
        case .deploy: return .deploy(try reader.read())
        default: preconditionFailure("\(kind) is not a JointInferenceService entry")
        }
    }
}

extension ServiceDeployment: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.writeVarint(epoch)
        writer.writeVarint(version)
        writer.writeHash(edgeModel)
        writer.writeHash(cloudModel)
        writer.writeList(edgePeers)
        writer.writeList(cloudPeers)
    }

    public init(from reader: inout WireReader) throws {
        let epoch = try reader.readPositive("deployment epoch")
        let version = try reader.readPositive("deployment version", max: TaskStateLimits.roundMax)
        let edgeModel = try reader.readHash()
        let cloudModel = try reader.readHash()
        let edgePeers = try reader.readList(NodeID.self, field: "deployment edge peers", limit: TaskStateLimits.servingPeersMax)
        let cloudPeers = try reader.readList(NodeID.self, field: "deployment cloud peers", limit: TaskStateLimits.servingPeersMax)
        for peers in [edgePeers, cloudPeers] {
            for index in peers.indices.dropFirst() where peers[index - 1] >= peers[index] {
                throw WireError.invalidField("deployment peers are not sorted and unique")
            }
        }
        self.init(epoch: epoch, version: version, edgeModel: edgeModel, cloudModel: cloudModel, edgePeers: edgePeers,
                  cloudPeers: cloudPeers)
    }
}

extension TaskEntryBody {
    public static func deploy(_ deployment: ServiceDeployment) -> TaskEntryBody { .program(.jointInference(.deploy(deployment))) }

    public var jointInference: JointInferenceEntry? {
        if case let .program(.jointInference(entry)) = self { return entry }
        return nil
    }
}
