import StarlingMembership
import StarlingPeer

extension EngineState {
    /// Starts keeping honest nodes' views (the first observer was added): every up node's row is
    /// read once from its machine.
    mutating func trackViews() {
        guard views == nil else { return }
        views = ViewTable()
        views!.reserve(nodes.count)
        for node in nodes.indices where nodes[node].status == .up { reloadView(of: node, replay: false) }
    }

    /// Applies one reported change to the observer's row and queues it for observers.
    mutating func recordMemberChange(_ event: MembershipEvent, heldBy observer: Int) {
        guard views != nil, nodes[observer].honest else { return }
        switch event {
        case let .joined(member, _, _):
            if let index = identityIndex[member] { views!.set(observer, index, .alive) }
        case let .stateChanged(member, _, state, _):
            if let index = identityIndex[member] { views!.set(observer, index, state) }
        case let .removed(member, _, _):
            if let index = identityIndex[member] { views!.set(observer, index, nil) }
        case .refuted, .rejected:
            return
        }
        pendingMemberChanges.append((Int32(observer), event))
    }

    /// Re-reads an honest node's row from its machine's `members`. With `replay`, every member is
    /// also queued as a `.joined` event, so observers that check names and addresses see machines
    /// that do not report their changes.
    mutating func reloadView(of node: Int, replay: Bool) {
        guard views != nil, nodes[node].honest, let machine = machines[node] else { return }
        views!.clearRow(node)
        guard replay else {
            machine.forEachMemberState { member, state in
                if let index = identityIndex[member] { views!.set(node, index, state) }
            }
            return
        }
        for member in machine.members where !member.isLocal {
            if let index = identityIndex[member.node] { views!.set(node, index, member.state) }
            pendingMemberChanges.append((Int32(node), .joined(member.node, name: member.name, address: member.address)))
        }
    }
}
