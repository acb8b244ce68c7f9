import StarlingCrypto
import StarlingPeer
import StarlingTasks

/// The simulator's driver for a JointInferenceService's `ServeWork`: each role's model is fetched
/// (one stream leg from the first reachable source; none needed when a source is the node itself)
/// and then served, answered with a `ServingResult`. A model no reachable source holds fails the
/// role, as a fetch that finds no peer does on the network. Requests are the runtime's data
/// plane and are not simulated; which peers serve, and the failover of the deployment, are.
extension EngineState {
    mutating func performServing(_ work: ServeWork, from node: Int) {
        for role in work.roles.keys.sorted() {
            guard let served = work.roles[role] else { continue }
            if served.sources.isEmpty {
                // Declared on this node itself (an imported model): held already.
                finishWork(.serving(ServingResult(task: work.task, version: work.version, role: role)), at: node, after: 0)
                continue
            }
            guard let source = firstReachable(served.sources, for: node) else {
                finishWork(.serving(ServingResult(task: work.task, version: work.version, role: role,
                                                  failure: "no reachable peer holds model \(served.model.hex.prefix(12))")),
                           at: node, after: Self.dataTimeout)
                continue
            }
            finishWork(.serving(ServingResult(task: work.task, version: work.version, role: role)), at: node,
                       after: streamLeg(source, node, retransmitAfter: Self.dataTimeout))
        }
    }
}
