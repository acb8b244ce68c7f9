/// How datagrams between peers are authenticated.
public enum PacketAuthentication: Sendable, Equatable {
    /// A 16-byte keyed-BLAKE2b tag with the pairwise key of sender and receiver (X25519 from their
    /// identities). What every real peer uses.
    case pairwiseMAC
    /// Simulation only: no tag; the simulated network's truthful source address stands in for it
    /// (a packet naming a known member as sender must come from that member's address). Deriving a
    /// pairwise key per pair of 10,000 simulated peers would cost more than the simulation itself;
    /// the MAC is covered by its own tests and by simulations run with `.pairwiseMAC`.
    case simulatedNetwork
}
