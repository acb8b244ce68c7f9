import StarlingCrypto
import StarlingMembership
import StarlingTrust
import StarlingWire

/// An adversary for simulations: a certified insider (a compromised node) that takes part in
/// membership like any peer and, once per `attackInterval`, sends forged traffic to random members.
///
/// It lives beside `Peer` because it needs the packet codec to produce datagrams that authenticate
/// as its own. What it tries (each a hole some gossip system has had):
/// - a suspect claim with a huge incarnation about a live member (memberlist #358);
/// - a dead claim at an incarnation the member never announced;
/// - alive and leave claims about another member, signed with its own key;
/// - a datagram naming another member as its sender (fails the MAC or the source check);
/// - malformed and truncated datagrams.
/// None of it may change an honest peer's view; the simulator's safety checker verifies that.
public struct Forger: PeerMachine {
    public private(set) var peer: Peer
    private let identity: SigningKey
    private let me: NodeID
    private var codec: PacketCodec
    private var started = false
    private var attacks: UInt64 = 0
    public static let attackTimer = TimerID(UInt64.max - 7)
    public var attackInterval: Duration = .seconds(1)

    public init(setup: PeerSetup) {
        peer = Peer(setup: setup)
        identity = setup.identity
        me = NodeID(setup.identity.publicKey)
        codec = PacketCodec(identity: setup.identity, authentication: setup.packetAuthentication, keyring: setup.keyring)
    }

    public var members: [MemberView] { peer.members }

    public func linkQuality(of node: NodeID) -> Double { peer.linkQuality(of: node) }

    public var counters: [String: UInt64] {
        peer.counters.merging(["forger.attacks sent": attacks], uniquingKeysWith: +)
    }

    public mutating func handle<R: RandomNumberGenerator>(_ input: PeerInput, now: Instant, random: inout R) -> [PeerEffect] {
        if case let .timerFired(id) = input, id == Self.attackTimer {
            var effects = attack(now: now, random: &random)
            effects.append(.setTimer(Self.attackTimer, at: now + attackInterval))
            return effects
        }
        var effects = peer.handle(input, now: now, random: &random)
        if case .start = input, !started {
            started = true
            effects.append(.setTimer(Self.attackTimer, at: now + attackInterval))
        }
        return effects
    }

    private mutating func attack<R: RandomNumberGenerator>(now: Instant, random: inout R) -> [PeerEffect] {
        let others = peer.members.filter { !$0.isLocal && $0.state == .alive }
        guard others.count >= 2 else { return [] }
        let target = others[Int.random(in: 0..<others.count, using: &random)]
        var victim = others[Int.random(in: 0..<others.count, using: &random)]
        if victim.node == target.node { victim = others.first { $0.node != target.node }! }

        let forged: [MembershipMessage] = [
            .claim(SignedClaim.sign(.suspect(node: victim.node, incarnation: victim.incarnation + 1_000_000, accuser: me), with: identity)),
            .claim(SignedClaim.sign(.dead(node: victim.node, incarnation: victim.incarnation + 5, accuser: me), with: identity)),
            .claim(SignedClaim(claim: .leave(node: victim.node, incarnation: victim.incarnation + 1),
                               signature: identity.sign(SignedClaim.bytesToSign(.leave(node: victim.node, incarnation: victim.incarnation + 1))))),
        ]
        var effects: [PeerEffect] = []
        for message in forged {
            var writer = WireWriter()
            writer.write(message)
            if let datagram = try? codec.seal(writer.bytes, to: target.node, random: &random) {
                effects.append(.sendDatagram(datagram, to: target.address))
            }
        }
        // A datagram that names the victim as its sender: the MAC (or the source check) fails.
        var writer = WireWriter()
        writer.write(MembershipMessage.ping(sequence: 1, target: target.node))
        if var sealed = try? codec.seal(writer.bytes, to: target.node, random: &random), sealed.count > 2 + 32 {
            sealed.replaceSubrange(2..<(2 + 32), with: victim.node.publicKey.bytes)
            effects.append(.sendDatagram(sealed, to: target.address))
        }
        // Garbage and truncation.
        effects.append(.sendDatagram(randomBytes(count: Int.random(in: 1...1200, using: &random), using: &random), to: target.address))
        if let valid = try? codec.seal(writer.bytes, to: target.node, random: &random) {
            effects.append(.sendDatagram(Array(valid.prefix(valid.count / 2)), to: target.address))
        }
        attacks += UInt64(effects.count)
        return effects
    }
}
