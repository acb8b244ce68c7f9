import StarlingMembership
import StarlingTasks
import StarlingTrust

/// Which live peers serve a JointInferenceService.
/// - Cloud: the peer named by `cloudWorker.nodeName`; else every placed peer with the
///   `spec.coordinator` tags (the well-linked peers that also coordinate), all serving at once.
/// - Edge: the peer named by `edgeWorker.nodeName`; else every placed peer that is not a cloud
///   peer (all placed peers when every one is).
enum ServicePlacement {
    struct Selection {
        /// Live peers matching `spec.placement`.
        let placed: Set<NodeID>
        let edge: [NodeID]
        let cloud: [NodeID]
    }

    static func select(_ spec: TaskSpec, service: JointInferenceServiceSpec, host: some TaskHost) -> Selection {
        let alive = host.aliveNodes.sorted()
        let placed = alive.filter { TaskPlacementMatcher.matches(spec, tags: host.tags(of: $0)).placed }
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
        return Selection(placed: Set(placed), edge: edge, cloud: cloud)
    }

    static func describeEdge(_ service: JointInferenceServiceSpec) -> String {
        service.edgeWorker.nodeName.map { "nodeName \($0)" } ?? "spec.placement"
    }
}
