/// Shares a datagram's piggyback space between membership claims and other gossip (task state).
///
/// Membership always gets up to its reserve; other gossip always gets at least the rest; whatever
/// one side leaves unused goes to the other. So neither can starve the other, and neither wastes
/// space the other could use.
public enum PiggybackBudget {
    /// Each closure takes at most the bytes it is offered and returns how many it used.
    public static func share(
        _ budget: Int, membershipReserve: Int,
        takeMembership: (Int) -> Int, takeOther: (Int) -> Int
    ) {
        guard budget > 0 else { return }
        let membershipFirst = takeMembership(min(max(0, membershipReserve), budget))
        let otherUsed = takeOther(budget - membershipFirst)
        let leftover = budget - membershipFirst - otherUsed
        if leftover > 0 { _ = takeMembership(leftover) }
    }
}
