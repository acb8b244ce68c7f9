import StarlingMembership
import StarlingPeer
import StarlingTrust

/// How `Cluster` makes nodes: identities, certificates, addresses, bootstrap lists, settings.
public struct ClusterConfiguration {
    /// Wall-clock seconds at simulated time zero (certificates are issued then).
    public var unixTimeAtZero: UInt64 = 1_800_000_000
    public var certificateValidity: UInt64 = TrustLimits.validityMax
    public var roles: Roles = [.peer, .coordinator]
    public var settings = MembershipSettings()
    /// `.simulatedNetwork` skips the per-packet MAC (see `PacketAuthentication`); `.pairwiseMAC`
    /// runs the real one (slower: one X25519 per pair of peers).
    public var packetAuthentication: PacketAuthentication = .simulatedNetwork
    /// Start every node already knowing every honest node (alive at incarnation 1), as a cluster
    /// restarted from its stores would: skips the join phase, so large clusters (10,000 nodes) can
    /// be measured at steady state. The claims are shared, so memory grows with N² small records,
    /// not N² claims.
    public var warmStart = false
    /// With `warmStart`, how many of the first honest nodes the snapshot holds (nodes added later,
    /// such as scenario joins, are not known in advance). Nil: all of them.
    public var warmStartNodes: Int?
    public var port: UInt16 = 7946
    /// Besides node 0 (the seed), each node bootstraps from this many earlier nodes (fewer when
    /// there are not enough), drawn at random.
    public var extraBootstrapMin = 0
    public var extraBootstrapMax = 2
    /// Node 0 bootstraps from nodes 1...this (which start after it and are retried), so that a
    /// seed that restarts with a lost store can rejoin, as real seeds list each other.
    public var seedBootstrap = 2
    /// Tags of the k-th honest node.
    public var tags: (Int) -> [String: String] = { _ in [:] }

    public init() {}

    /// `10.a.b.c:port`, a distinct address for each ordinal (they are only names in a simulation).
    public func address(ofHonest ordinal: Int) -> PeerAddress {
        PeerAddress(host: "10.\(ordinal / 62_500).\(ordinal / 250 % 250).\(ordinal % 250 + 1)", port: port)
    }

    /// Attackers live in 10.255.0.0/16.
    public func address(ofAttacker ordinal: Int) -> PeerAddress {
        PeerAddress(host: "10.255.\(ordinal / 250 % 250).\(ordinal % 250 + 1)", port: port)
    }
}
