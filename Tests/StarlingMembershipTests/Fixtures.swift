import StarlingCrypto
@testable import StarlingMembership
import StarlingTrust

/// A small certified cluster for tests: one authority, nodes with deterministic keys.
struct TestCluster {
    static let startTime: UInt64 = 1_800_000_000
    let authority = Authority(signingKey: try! SigningKey(seed: [UInt8](repeating: 0xA0, count: 32)))
    let cache = SignatureCache()

    func key(_ index: Int) -> SigningKey { try! SigningKey(seed: [UInt8](repeating: UInt8(index + 1), count: 32)) }
    func node(_ index: Int) -> NodeID { NodeID(key(index).publicKey) }
    func address(_ index: Int) -> PeerAddress { PeerAddress(host: "10.0.0.\(index + 1)", port: 7946) }

    func certificate(_ index: Int, roles: Roles = [.peer, .coordinator], validFor: UInt64 = 86_400,
                     now: UInt64 = startTime) -> Certificate {
        try! authority.admit(node(index), name: "node-\(index)", roles: roles, now: now, validFor: validFor)
    }

    func membership(_ index: Int, settings: MembershipSettings = MembershipSettings(), bootstrap: [PeerAddress] = [],
                    incarnation: UInt64 = 1) -> Membership {
        Membership(identity: key(index), certificate: certificate(index), authority: authority.publicKey, revocations: [],
                   address: address(index), tags: ["zone": "edge-\(index)"], bootstrap: bootstrap,
                   startIncarnation: incarnation, unixTimeAtStart: Self.startTime, settings: settings, signatureCache: cache)
    }

    func alive(_ index: Int, incarnation: UInt64 = 1, certificate: Certificate? = nil, signer: SigningKey? = nil) -> SignedClaim {
        let claim = Claim.alive(AliveClaim(certificate: certificate ?? self.certificate(index), incarnation: incarnation,
                                           address: address(index), tags: ["zone": "edge-\(index)"]))
        if let signer { return SignedClaim(claim: claim, signature: signer.sign(SignedClaim.bytesToSign(claim))) }
        return SignedClaim.sign(claim, with: key(index))
    }

    func suspect(_ index: Int, incarnation: UInt64 = 1, by accuser: Int) -> SignedClaim {
        SignedClaim.sign(.suspect(node: node(index), incarnation: incarnation, accuser: node(accuser)), with: key(accuser))
    }

    func dead(_ index: Int, incarnation: UInt64 = 1, by accuser: Int) -> SignedClaim {
        SignedClaim.sign(.dead(node: node(index), incarnation: incarnation, accuser: node(accuser)), with: key(accuser))
    }
}

extension Membership {
    /// Feeds claims as if they arrived in one datagram from `sender`.
    mutating func deliver(_ claims: [SignedClaim], from sender: Int, cluster: TestCluster, at now: Instant = .zero) -> [MembershipEffect] {
        var random = DeterministicRandom(seed: 1)
        return receive(claims.map { .claim($0) }, from: cluster.node(sender), address: cluster.address(sender),
                       now: now, random: &random)
    }

    func state(of node: NodeID) -> MemberState? { members[node]?.state }
}

extension Array where Element == MembershipEffect {
    var sends: [(to: NodeID, messages: [MembershipMessage])] {
        compactMap { if case let .send(to, _, messages, _) = $0 { return (to, messages) } else { return nil } }
    }
    func timer(_ timer: MembershipTimer) -> Instant? {
        for effect in self { if case let .setTimer(t, at) = effect, t == timer { return at } }
        return nil
    }
}
