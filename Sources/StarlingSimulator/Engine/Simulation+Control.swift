import StarlingMembership
import StarlingPeer

extension Simulation {
    /// An operator's request to a node, as the local API would make it (submit a task, start a
    /// keyring operation...): answered at once; its effects are performed like any input's.
    /// Nil when the node is not up.
    @discardableResult
    public func control(_ node: Int, _ request: ControlRequest) -> ControlAnswer? {
        let answer = state.control(node, request)
        if state.hasPending { deliverPending() }
        return answer
    }

    /// The tasks a node holds, as `starling task list` would show them (empty when it is down).
    public func tasks(of node: Int) -> [TaskSummary] { state.machines[node]?.tasks ?? [] }
}

extension EngineState {
    mutating func control(_ node: Int, _ request: ControlRequest) -> ControlAnswer? {
        guard nodes[node].status == .up, machines[node] != nil else { return nil }
        let local = Instant(nanoseconds: nodes[node].clock.local(now.nanoseconds))
        trace.mix(UInt64(bitPattern: now.nanoseconds))
        trace.mix(UInt64(node) << 8 | 9)
        let (answer, effects) = machines[node]!.control(request, now: local, random: &nodes[node].machineRandom)
        if !effects.isEmpty { perform(effects, from: node) }
        return answer
    }
}
