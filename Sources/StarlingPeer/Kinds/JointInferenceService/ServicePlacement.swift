import StarlingMembership
import StarlingTasks
import StarlingTrust

/// Which live peers serve a JointInferenceService.
/// - Cloud: the peer named by `cloudWorker.nodeName`; else every placed peer with the
///   `spec.coordinator` tags (the well-linked peers that also coordinate), all serving at once.
/// - Edge: the peer named by `edgeWorker.nodeName`; else every placed peer that is not a cloud
///   peer (all placed peers when every one is).
///
/// The rules apply to the live peers and to the peers `serving` already (the current deployment's)
/// while membership holds them up, suspects included: a peer is dropped once it is declared dead
/// (or its tags no longer select it), not each time a probe of it goes unanswered, which would
/// commit a deployment without it and another with it again.
enum ServicePlacement {
    struct Selection {
        let edge: [NodeID]
        let cloud: [NodeID]
    }

    static func select(_ spec: TaskSpec, service: JointInferenceServiceSpec, serving: [NodeID] = [],
                       host: some TaskHost) -> Selection {
        let up = Set(host.aliveNodes).union(serving.filter { host.isUp($0) }).sorted()
        let placed = up.filter { TaskPlacementMatcher.matches(spec, tags: host.tags(of: $0)).placed }
        func named(_ name: String) -> [NodeID] { placed.filter { host.name(of: $0) == name } }
        let cloud = service.cloudWorker.nodeName.map(named)
            ?? placed.filter { TaskPlacementMatcher.matches(spec, tags: host.tags(of: $0)).mayCoordinate }
        let edge: [NodeID]
        if let name = service.edgeWorker.nodeName {
            edge = named(name)
        } else {
            let notCloud = placed.filter { !cloud.contains($0) }
            edge = notCloud.isEmpty ? placed : notCloud
        }
        return Selection(edge: edge, cloud: cloud)
    }

    static func describeEdge(_ service: JointInferenceServiceSpec) -> String {
        service.edgeWorker.nodeName.map { "nodeName \($0)" } ?? "spec.placement"
    }
}
