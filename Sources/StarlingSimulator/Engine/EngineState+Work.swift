import StarlingCrypto
import StarlingMembership
import StarlingPeer
import StarlingTasks

/// The simulator's driver for `TaskWork`: models and updates are hashes, and every transfer costs
/// one stream leg from its source (so loss, delay, partitions and crashes shape rounds as they
/// shape requests). An update or model whose source is down or cut off never arrives: the
/// machine's deadlines and retries must cope, as on a network. Each kind's work goes to its own
/// executor (`EngineState+FederatedWork`).
extension EngineState {
    mutating func performWork(_ work: TaskWork, from node: Int) {
        switch work {
        case let .federated(work):
            performFederated(work, from: node)
        case let .serve(work):
            performServing(work, from: node)
        case let .incremental(work):
            performIncremental(work, from: node)
        case let .holdModel(_, _, model, sources):
            guard let source = firstReachable(sources, for: node) else { return }
            finishWork(.modelHeld(model), at: node, after: streamLeg(source, node, retransmitAfter: Self.dataTimeout))
        case let .release(task, _):
            releaseFederated(task, at: node)
        }
    }

    func firstReachable(_ sources: [BlobSource], for node: Int) -> Int? {
        for source in sources { if let index = reachableSource(source, for: node) { return index } }
        return nil
    }

    /// The node index of a source that is up and not cut off from `node` (itself included).
    func reachableSource(_ source: BlobSource, for node: Int) -> Int? {
        guard let index = addressTable.index(of: source.address, addresses: addresses) else { return nil }
        if index == node { return index }
        guard nodes[index].status == .up, !isBlocked(from: index, to: node), !isBlocked(from: node, to: index) else { return nil }
        return index
    }

    mutating func finishWork(_ result: TaskWorkResult, at node: Int, after delay: Int64) {
        queue.push(at: now.nanoseconds &+ max(0, delay), .workDone(node: Int32(node), epoch: nodes[node].epoch, result: result))
    }

    static func bytes(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
}
