import StarlingMembership

/// Every honest node's member view as one byte per (observer, member), kept current from the
/// machines' `.memberChanged` effects, so checkers read views without asking 10,000 machines for
/// 10,000 members each at every sample (10^8 `MemberView`s a sample did not fit in time or memory).
///
/// Rows of machines that do not report their changes (test fakes) are re-read at each sample.
struct ViewTable {
    /// Row length; at least the node count (grows by doubling, so adding nodes one by one does not
    /// copy the table each time).
    private(set) var stride = 0
    /// stride × stride cells; `absent` where the observer does not know the member.
    private var cells: [UInt8] = []
    /// (observer << 32 | member) pairs whose cell is suspect, dead or left: the few cells the
    /// false-positive check must look at, without scanning 10^8 bytes.
    private(set) var unsettled: Set<UInt64> = []

    static let absent: UInt8 = 255

    /// Makes room for `count` nodes, keeping every row.
    mutating func reserve(_ count: Int) {
        guard count > stride else { return }
        let newStride = max(count, stride * 2, 16)
        var grown = [UInt8](repeating: Self.absent, count: newStride * newStride)
        for row in 0..<stride {
            for column in 0..<stride { grown[row * newStride + column] = cells[row * stride + column] }
        }
        cells = grown
        stride = newStride
    }

    func state(_ observer: Int, _ member: Int) -> MemberState? {
        guard observer < stride, member < stride else { return nil }
        let cell = cells[observer * stride + member]
        return cell == Self.absent ? nil : MemberState(rawValue: cell)
    }

    mutating func set(_ observer: Int, _ member: Int, _ state: MemberState?) {
        let index = observer * stride + member
        let before = cells[index], after = state?.rawValue ?? Self.absent
        cells[index] = after
        let wasUnsettled = before != Self.absent && before != MemberState.alive.rawValue
        let isUnsettled = after != Self.absent && after != MemberState.alive.rawValue
        guard wasUnsettled != isUnsettled else { return }
        let key = UInt64(observer) << 32 | UInt64(member)
        if isUnsettled { unsettled.insert(key) } else { unsettled.remove(key) }
    }

    /// Forgets the observer's whole view (it restarted, or its row is about to be re-read).
    mutating func clearRow(_ observer: Int) {
        guard observer < stride else { return }
        for column in 0..<stride where cells[observer * stride + column] != Self.absent {
            set(observer, column, nil)
        }
    }
}
