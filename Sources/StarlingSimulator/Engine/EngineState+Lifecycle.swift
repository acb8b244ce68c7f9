import StarlingMembership
import StarlingPeer

extension EngineState {
    /// Puts a node in `starting`: it boots at the next `.start` event of its new life.
    mutating func prepareStart(_ node: Int) -> Bool {
        switch nodes[node].status {
        case .pending, .crashed, .left: break
        case .starting, .up: return false
        }
        nodes[node].epoch &+= 1
        nodes[node].status = .starting
        queue.push(at: now.nanoseconds, .start(node: Int32(node), epoch: nodes[node].epoch))
        return true
    }

    /// Ends a node's life (crash or completed leave): its machine, timers and exchanges vanish,
    /// events of its old life become stale, and requests it was serving reset at their requesters.
    mutating func stop(_ node: Int, as status: NodeStatus) {
        accountUpTime()
        if nodes[node].status == .up && nodes[node].honest { honestUp -= 1 }
        nodes[node].status = status
        nodes[node].epoch &+= 1
        cold[node].downSince = now
        cold[node].upSince = nil
        machines[node] = nil
        views?.clearRow(node)
        nodes[node].timers.removeAll()
        cold[node].exchanges.removeAll()
        // Reset in reply-id order, so the run does not depend on dictionary order.
        let inbound = cold[node].inbound.sorted { $0.key < $1.key }
        cold[node].inbound.removeAll()
        for (_, request) in inbound {
            let requester = Int(request.requester)
            let delay = timing.delay(node, requester, linkKey: linkKey, &nodes[node].networkRandom)
            queue.push(at: now.nanoseconds &+ delay, .response(
                node: request.requester, epoch: request.requesterEpoch, exchange: request.exchange,
                generation: request.generation, result: .failure(.closed("connection reset by peer"))))
        }
        refreshConnectivity(node)
    }
}
