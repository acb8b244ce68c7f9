/// A cut in the simulated network. With `oneWay`, side A cannot reach side B while B still reaches
/// A (an asymmetric partition: a firewall rule, a broken route in one direction); otherwise neither
/// side reaches the other. An empty side B means "every node not in A".
public struct Partition: Sendable, Equatable {
    public var name: String
    public var sideA: Set<Int>
    public var sideB: Set<Int>
    public var oneWay: Bool

    public init(name: String, sideA: Set<Int>, sideB: Set<Int> = [], oneWay: Bool = false) {
        self.name = name
        self.sideA = sideA
        self.sideB = sideB
        self.oneWay = oneWay
    }

    func onSideB(_ node: Int) -> Bool { sideB.isEmpty ? !sideA.contains(node) : sideB.contains(node) }

    /// Whether this cut stops traffic from `from` to `to`.
    public func blocks(from: Int, to: Int) -> Bool {
        if sideA.contains(from) && onSideB(to) { return true }
        if !oneWay && sideA.contains(to) && onSideB(from) { return true }
        return false
    }

    /// Whether `node` is cut from anyone by this partition.
    public func involves(_ node: Int) -> Bool { sideA.contains(node) || onSideB(node) }
}
