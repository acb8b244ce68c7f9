import StarlingMembership
import StarlingPeer

extension Simulation {
    /// Kills a node's process: its machine, timers and exchanges vanish, datagrams in flight to it
    /// are lost, and requests it was serving fail at their requesters with a reset. With
    /// `storeSurvives` false its store is wiped too, so a restart begins from nothing.
    public func crash(_ node: Int, storeSurvives: Bool = true) {
        guard state.nodes[node].status == .up || state.nodes[node].status == .starting else { return }
        state.statistics.crashes &+= 1
        state.stop(node, as: .crashed)
        if !storeSurvives {
            state.cold[node].persisted = nil
            state.cold[node].persistedTasks = [:]
        }
        notify(.crashed(node: node, storeSurvives: storeSurvives))
    }

    /// Starts a crashed (or left) node again with a new machine from its factory, given what its
    /// store kept.
    public func restart(_ node: Int) {
        guard state.nodes[node].status == .crashed || state.nodes[node].status == .left else { return }
        start(node)
    }

    /// Asks a node to leave gracefully (`PeerInput.leave`); it stops when it emits `.left`.
    public func leave(_ node: Int) {
        guard state.nodes[node].status == .up else { return }
        notify(.leaving(node: node))
        state.queue.push(at: state.now.nanoseconds, .leave(node: Int32(node), epoch: state.nodes[node].epoch))
    }

    // MARK: Network faults

    /// Adds a partition (replacing one of the same name).
    public func addPartition(_ partition: Partition) {
        state.partitions.removeAll { $0.name == partition.name }
        state.partitions.append(partition)
        networkChanged()
    }

    public func removePartition(named name: String) {
        let before = state.partitions.count
        state.partitions.removeAll { $0.name == name }
        if state.partitions.count != before { networkChanged() }
    }

    public func removeAllPartitions() {
        guard !state.partitions.isEmpty else { return }
        state.partitions.removeAll()
        networkChanged()
    }

    /// The liveness phase's heal: every partition and all loss go away (delay, duplication, slow
    /// nodes and clocks stay as they are).
    public func heal() {
        network.loss = 0
        removeAllPartitions()
    }

    /// From now on every input to `node` arrives `extraDelay` late (zero: no longer slow).
    public func setSlow(_ node: Int, extraDelay: Duration) {
        state.nodes[node].slowExtra = max(0, extraDelay.nanoseconds)
        state.refreshConnectivity(node)
        notify(.networkChanged)
    }

    /// Gives a node a skewed clock (call before it starts: a running node's clock never jumps).
    public func setClock(_ node: Int, _ clock: NodeClock) {
        state.nodes[node].clock = clock
    }

    /// Tells observers the authority revoked `node` (the checkers then expect it to be dropped).
    public func announceRevocation(of node: Int) {
        notify(.revoked(node: node))
    }

    private func networkChanged() {
        state.refreshConnectivity()
        notify(.networkChanged)
    }

    func notify(_ event: LifecycleEvent) {
        for observer in observers { observer.lifecycle(event, at: state.now, in: self) }
    }
}
