import StarlingCrypto
import StarlingMembership
import StarlingPeer
import StarlingTrust

/// Builds a cluster inside a simulation: one authority, nodes with deterministic identities and
/// certificates, one shared signature cache, bootstrap lists, tags. Machines are made by a factory
/// from each node's `PeerSetup`, so tests pass fakes and the CLI passes `Peer.init(setup:)`.
///
/// Honest node k is `node-k` at `configuration.address(ofHonest: k)`; its key comes from the
/// seed's identity stream k, so adding nodes or attackers never changes existing identities.
public final class Cluster {
    public let simulation: Simulation
    public let configuration: ClusterConfiguration
    public let authority: Authority
    public let signatureCache = SignatureCache()
    public let makeMachine: (PeerSetup) -> any PeerMachine
    /// Simulation indices of honest nodes, by ordinal (node-k is `honest[k]`).
    public private(set) var honest: [Int] = []
    public internal(set) var attackers: [Int] = []
    public private(set) var revocations: [Revocation] = []
    /// Each node's setup as last built (its `persisted` is filled in at each start).
    public private(set) var setups: [Int: PeerSetup] = [:]
    /// The shared warm-start snapshot (see `ClusterConfiguration.warmStart`), built on first use.
    private var warmMembers: [ClaimBox]?

    public init(simulation: Simulation, configuration: ClusterConfiguration = ClusterConfiguration(),
                makeMachine: @escaping (PeerSetup) -> any PeerMachine) {
        self.simulation = simulation
        self.configuration = configuration
        self.makeMachine = makeMachine
        var random = simulation.streams.generator(.authority)
        authority = Authority(signingKey: SigningKey.generate(using: &random))
    }

    /// Adds honest node-k (k = the number of honest nodes so far), starting it at `startAt` if given.
    @discardableResult
    public func addNode(startAt: Instant? = nil, clock: NodeClock = .exact) -> Int {
        let ordinal = honest.count
        var random = simulation.streams.generator(.identity, ordinal)
        let key = SigningKey.generate(using: &random)
        let name = "node-\(ordinal)"
        let certificate = try! authority.admit(
            NodeID(key.publicKey), name: name, roles: configuration.roles,
            now: configuration.unixTimeAtZero, validFor: configuration.certificateValidity)
        let setup = PeerSetup(
            identity: key, certificate: certificate, authority: authority.publicKey, revocations: revocations,
            advertise: configuration.address(ofHonest: ordinal), bootstrap: bootstrapList(for: ordinal),
            tags: configuration.tags(ordinal), settings: configuration.settings, signatureCache: signatureCache,
            unixTimeAtStart: configuration.unixTimeAtZero, packetAuthentication: configuration.packetAuthentication)
        let index = simulation.addNode(NodeSpec(
            name: name, address: setup.advertise, kind: .honest, identity: NodeID(key.publicKey), admitted: true,
            makeMachine: { [unowned self] start in self.machine(for: start) }), clock: clock)
        setups[index] = setup
        honest.append(index)
        if let startAt { simulation.scheduleStart(index, at: startAt) }
        return index
    }

    /// Adds `count` honest nodes whose starts are spread evenly over `[from, from + stagger)`.
    @discardableResult
    public func addNodes(_ count: Int, startingAt from: Instant = .zero, stagger: Duration = .zero,
                         clock: (Int) -> NodeClock = { _ in .exact }) -> [Int] {
        (0..<count).map { i in
            let offset = count > 1 ? stagger.nanoseconds / Int64(count) * Int64(i) : 0
            return addNode(startAt: from + .nanoseconds(offset), clock: clock(honest.count))
        }
    }

    /// Every honest node's alive claim at incarnation 1 (what each announces at its first start).
    private func warmSnapshot() -> [ClaimBox] {
        if let warmMembers { return warmMembers }
        let boxes = honest.prefix(configuration.warmStartNodes ?? honest.count).compactMap { index -> ClaimBox? in
            guard let setup = setups[index] else { return nil }
            let claim = AliveClaim(certificate: setup.certificate, incarnation: 1, address: setup.advertise, tags: setup.tags)
            return ClaimBox(SignedClaim.sign(.alive(claim), with: setup.identity))
        }
        warmMembers = boxes
        return boxes
    }

    /// Node 0 (the seed) and 0-2 more earlier nodes; node 0 itself lists nodes 1...`seedBootstrap`.
    private func bootstrapList(for ordinal: Int) -> [PeerAddress] {
        guard ordinal > 0 else {
            return configuration.seedBootstrap > 0 ? (1...configuration.seedBootstrap).map { configuration.address(ofHonest: $0) } : []
        }
        var random = simulation.streams.generator(.bootstrap, ordinal)
        let span = configuration.extraBootstrapMax - configuration.extraBootstrapMin
        let extra = configuration.extraBootstrapMin + (span > 0 ? DeterministicMath.below(span + 1, &random) : 0)
        var chosen = [0]
        if ordinal > 1 {
            for pick in DeterministicMath.sample(extra, of: ordinal - 1, &random) { chosen.append(pick + 1) }
        }
        return chosen.map { configuration.address(ofHonest: $0) }
    }

    private func machine(for start: MachineStart) -> any PeerMachine {
        var setup = setups[start.node]!
        setup.persisted = start.persisted ?? PersistedState()
        setup.tasks = start.tasks
        // Only a first start is warm: a restarted peer, as the runtime's, knows no member and
        // rejoins through its bootstrap list and the peers its store remembers.
        setup.initialMembers = configuration.warmStart && start.life == 1 ? warmSnapshot() : []
        setup.revocations = revocations
        setup.unixTimeAtStart = configuration.unixTimeAtZero
            &+ UInt64(max(0, start.localTime.nanoseconds / 1_000_000_000))
        setups[start.node] = setup
        return makeMachine(setup)
    }

    /// The honest node named `node-k`, or the attacker named `attacker-k`.
    public func index(named name: String) -> Int? {
        if name.hasPrefix("node-"), let k = Int(name.dropFirst(5)), k >= 0, k < honest.count { return honest[k] }
        if name.hasPrefix("attacker-"), let k = Int(name.dropFirst(9)), k >= 0, k < attackers.count { return attackers[k] }
        return nil
    }

    /// The authority revokes `node`: peers (re)started from now on get the revocation in their
    /// setup, and checkers expect every peer to drop the node. Delivering it to running peers needs
    /// a driver input that `PeerInput` does not have yet: pass `deliver` to hand it over.
    @discardableResult
    public func revoke(_ node: Int, deliver: ((Revocation, Simulation) -> Void)? = nil) -> Revocation {
        let revocation = try! authority.revoke(
            simulation.identity(of: node)!, now: configuration.unixTimeAtZero &+ UInt64(max(0, simulation.now.nanoseconds / 1_000_000_000)),
            reason: "revoked by the simulation")
        revocations.append(revocation)
        deliver?(revocation, simulation)
        simulation.announceRevocation(of: node)
        return revocation
    }
}
