import StarlingCrypto
import StarlingMembership
import StarlingPeer
import StarlingTrust

/// What an attacker machine starts from.
public struct AttackerContext {
    /// Its own setup. With a certificate from the cluster authority when the scenario says
    /// `attacker_certified: true` (an insider); otherwise signed by `rogueAuthority`.
    public var setup: PeerSetup
    public var certified: Bool
    /// An authority key the cluster does not trust, for forging certificates.
    public var rogueAuthority: Authority
    /// The honest nodes (name, identity, address), as a well-informed attacker would know them.
    public var honest: [(name: String, node: NodeID, address: PeerAddress)]
    public var ordinal: Int
    public var start: MachineStart
}

/// Attacker machines by name: a scenario's `attackers: N` with `attacker_machine: NAME` (default
/// `forger`) asks this registry for NAME. The simulator ships none; security tests and the CLI
/// register theirs.
public struct AttackerRegistry {
    public typealias Factory = (AttackerContext) -> any PeerMachine
    private var factories: [String: Factory] = [:]

    public init() {}

    public mutating func register(_ name: String, _ factory: @escaping Factory) { factories[name] = factory }
    public func factory(named name: String) -> Factory? { factories[name] }
    public var names: [String] { factories.keys.sorted() }
}

extension Cluster {
    /// Adds attacker-k running `factory`, starting at `startAt` if given.
    @discardableResult
    public func addAttacker(certified: Bool, startAt: Instant? = nil, factory: @escaping AttackerRegistry.Factory) -> Int {
        let ordinal = attackers.count
        var random = simulation.streams.generator(.attacker, ordinal)
        let key = SigningKey.generate(using: &random)
        let rogue = Authority(signingKey: SigningKey.generate(using: &random))
        let name = "attacker-\(ordinal)"
        let issuer = certified ? authority : rogue
        let certificate = try! issuer.admit(
            NodeID(key.publicKey), name: name, roles: configuration.roles,
            now: configuration.unixTimeAtZero, validFor: configuration.certificateValidity)
        let address = configuration.address(ofAttacker: ordinal)
        let setup = PeerSetup(
            identity: key, certificate: certificate, authority: authority.publicKey, revocations: revocations,
            advertise: address, bootstrap: [configuration.address(ofHonest: 0)], tags: [:],
            settings: configuration.settings, signatureCache: signatureCache,
            unixTimeAtStart: configuration.unixTimeAtZero, packetAuthentication: configuration.packetAuthentication)
        let index = simulation.addNode(NodeSpec(
            name: name, address: address, kind: .attacker, identity: NodeID(key.publicKey), admitted: certified,
            makeMachine: { [unowned self] start in
                var own = setup
                own.persisted = start.persisted ?? PersistedState()
                own.unixTimeAtStart = self.configuration.unixTimeAtZero &+ UInt64(max(0, start.localTime.nanoseconds / 1_000_000_000))
                let honest = self.honest.map { (name: self.simulation.name(of: $0), node: self.simulation.identity(of: $0)!,
                                                address: self.simulation.address(of: $0)) }
                return factory(AttackerContext(setup: own, certified: certified, rogueAuthority: rogue,
                                               honest: honest, ordinal: ordinal, start: start))
            }))
        attackers.append(index)
        if let startAt { simulation.scheduleStart(index, at: startAt) }
        return index
    }
}
