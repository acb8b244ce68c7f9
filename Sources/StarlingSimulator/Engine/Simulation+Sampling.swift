import StarlingMembership
import StarlingPeer

extension Simulation {
    /// Reads every live honest node's member view and hands the lot to each observer.
    func takeSample() {
        guard !observers.isEmpty else { return }
        let count = state.nodes.count
        var views = [[MemberView]?](repeating: nil, count: count)
        var indices = [[Int32]?](repeating: nil, count: count)
        var present: [Int] = []
        for node in 0..<count where state.nodes[node].status == .up && state.nodes[node].honest {
            guard let view = state.machines[node]?.members else { continue }
            views[node] = view
            var resolved = [Int32]()
            resolved.reserveCapacity(view.count)
            for member in view { resolved.append(state.identityIndex[member.node].map { Int32($0) } ?? -1) }
            indices[node] = resolved
            present.append(node)
        }
        let sample = MembershipSample(time: state.now, views: views, indices: indices, observers: present)
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

/// A reusable dense map from node index to the state one observer holds it in, so a check can
/// ask "what does O think of N" in O(1) after one pass over O's view.
public struct ViewLookup {
    /// 255: not in the view.
    private var states: [UInt8] = []
    private var touched: [Int] = []

    public init() {}

    /// Loads one observer's view (indices as in `MembershipSample.indices`).
    public mutating func load(_ view: [MemberView], _ indices: [Int32], nodeCount: Int) {
        if states.count < nodeCount { states += [UInt8](repeating: 255, count: nodeCount - states.count) }
        for index in touched { states[index] = 255 }
        touched.removeAll(keepingCapacity: true)
        for (position, member) in view.enumerated() where !member.isLocal {
            let index = Int(indices[position])
            guard index >= 0 else { continue }
            // A view listing a member twice keeps the first entry.
            if states[index] == 255 {
                states[index] = member.state.rawValue
                touched.append(index)
            }
        }
    }

    /// The state the loaded observer holds `node` in; nil when absent.
    public func state(of node: Int) -> MemberState? {
        guard node < states.count, states[node] != 255 else { return nil }
        return MemberState(rawValue: states[node])
    }

    /// Holds `node` as alive or suspect: believes it is a member that is up.
    public func believesUp(_ node: Int) -> Bool {
        let state = self.state(of: node)
        return state == .alive || state == .suspect
    }
}
