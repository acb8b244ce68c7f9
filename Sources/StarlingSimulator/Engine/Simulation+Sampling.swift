import StarlingMembership
import StarlingPeer

extension Simulation {
    /// Hands every observer the live honest nodes' views. Rows of machines that report their
    /// changes are already current; the others are re-read (and replayed as events) first.
    func takeSample() {
        guard !observers.isEmpty else { return }
        var present: [Int] = []
        for node in 0..<state.nodes.count where state.nodes[node].status == .up && state.nodes[node].honest {
            guard let machine = state.machines[node] else { continue }
            if !machine.reportsMemberChanges { state.reloadView(of: node, replay: true) }
            present.append(node)
        }
        if state.hasPending { deliverPending() }
        guard let table = state.views else { return }
        let sample = MembershipSample(time: state.now, observers: present, table: table)
        for observer in observers { observer.sample(sample, in: self) }
    }

    /// Takes a sample now, outside the regular schedule (tests, end of run).
    public func sampleNow() { takeSample() }
}

extension Simulation {
    /// Total seconds honest nodes have been up so far (for bytes per node per second).
    public func honestNodeSeconds() -> Double {
        state.accountUpTime()
        return state.statistics.honestUpNanoseconds / 1e9
    }
}
