import StarlingCrypto
import StarlingTrust

/// What the membership core asks its host (the peer machine) to do.
public enum MembershipEffect: Equatable, Sendable {
    /// Send these messages to a member in one datagram; when `piggyback` is set the host fills the
    /// rest of the datagram with queued claims (`takeBroadcasts`). A gossip-only send has no messages.
    case send(to: NodeID, address: PeerAddress, messages: [MembershipMessage], piggyback: Bool)
    case setTimer(MembershipTimer, at: Instant)
    case cancelTimer(MembershipTimer)
    /// Start an anti-entropy exchange with the peer at `address` (request from `makeSyncRequest`).
    case sync(to: PeerAddress)
    /// Probe `to` over a stream as well (the host seals `messages`, a ping, and feeds the sealed
    /// ack it gets back to `receive`); give up after `timeout`.
    case streamProbe(to: NodeID, address: PeerAddress, messages: [MembershipMessage], timeout: Duration)
    /// Something an operator may want in the log.
    case event(MembershipEvent)
    /// The incarnation changed: persist it so a restart starts above it.
    case incarnationChanged(UInt64)
    /// A graceful leave has been announced long enough; the host may stop.
    case leaveComplete
}

/// Timers the core uses; the host maps them to its driver's timer ids.
public enum MembershipTimer: Hashable, Sendable {
    case probe
    case probeTimeout(UInt32)
    case forwardedProbe(UInt32)
    case gossip
    case antiEntropy
    case bootstrap
    case reap
    case suspicion(NodeID)
    case leaveDone
}

/// Membership changes and notable drops, for logs and tests.
public enum MembershipEvent: Equatable, Sendable {
    case joined(NodeID, name: String, address: PeerAddress)
    case stateChanged(NodeID, name: String, MemberState, incarnation: UInt64)
    case refuted(incarnation: UInt64)
    case removed(NodeID, name: String, reason: String)
    case rejected(reason: String)
}

/// What the core knows of one member. Small on purpose (claims are shared boxes): a simulated
/// cluster of 10,000 peers holds 10^8 of these.
public struct MemberRecord: Sendable {
    /// The member's latest self-signed alive claim: certificate, address, tags, incarnation.
    var aliveBox: ClaimBox
    /// The suspect, dead or leave claim that set the state, relayed to others with it.
    var stateBox: ClaimBox?
    public internal(set) var state: MemberState
    /// Incarnation of the current state (the alive claim's, or the suspect/dead/leave claim's).
    public internal(set) var incarnation: UInt64
    public internal(set) var stateSince: Instant

    init(alive: ClaimBox, state: MemberState, incarnation: UInt64, stateSince: Instant) {
        precondition(alive.alive != nil, "a member record starts from an alive claim")
        self.aliveBox = alive
        self.stateBox = nil
        self.state = state
        self.incarnation = incarnation
        self.stateSince = stateSince
    }

    public var alive: SignedClaim { aliveBox.signed }
    public var aliveClaim: AliveClaim { aliveBox.alive! }
    public var stateClaim: SignedClaim? { stateBox?.signed }
    public var node: NodeID { aliveClaim.node }
    public var name: String { aliveClaim.certificate.name }
    public var address: PeerAddress { aliveClaim.address }

    var digestEntry: SyncDigestEntry {
        SyncDigestEntry(node: node, incarnation: incarnation, rank: state.rawValue)
    }
}

/// SWIM with the Lifeguard refinements, over signed claims. Pure: no sockets, no clock, no global
/// randomness. The host feeds it authenticated messages, timer firings and sync exchanges, and
/// carries out the effects it returns.
///
/// Trust rules (docs/security.md): a member exists only through its own signed alive claim carrying
/// a valid certificate from the cluster authority; suspect and dead claims are signed by a known
/// accuser and may not name an incarnation the member never announced itself (so one forged claim
/// cannot evict a node forever, memberlist #358); revoked keys are dropped everywhere.
public struct Membership {
    public let settings: MembershipSettings
    public let identity: SigningKey
    public let me: NodeID
    public let authority: PublicKey
    let signatureCache: SignatureCache

    public internal(set) var certificate: Certificate
    public internal(set) var incarnation: UInt64
    public internal(set) var address: PeerAddress
    public internal(set) var tags: [String: String]
    public internal(set) var selfAlive: SignedClaim

    public internal(set) var members: [NodeID: MemberRecord] = [:]
    public internal(set) var revocations = RevocationList()
    /// Reaped members' last incarnation and when they were reaped, so old claims cannot revive them.
    var tombstones: [NodeID: (incarnation: UInt64, since: Instant)] = [:]
    /// Alive + suspect members, self included: the N in log N.
    public internal(set) var liveCount = 1

    var probeOrder: [NodeID] = []
    var probeIndex = 0
    var pendingProbe: PendingProbe?
    /// Probes whose period ended unanswered while their stream probe was still out, by sequence.
    var lingeringProbes: [UInt32: PendingProbe] = [:]
    /// Moving average of probe outcomes per member (see `linkQuality(of:)`).
    var probeQuality: [NodeID: Double] = [:]
    var forwardedProbes: [UInt32: ForwardedProbe] = [:]
    var suspicions: [NodeID: Suspicion] = [:]
    /// Lifeguard's local-health multiplier, 0...settings.localHealthMax.
    public internal(set) var localHealth = 0
    var queue: DisseminationQueue
    var nextSequence: UInt32 = 1
    public internal(set) var counters: [String: UInt64] = [:]
    public internal(set) var leaving = false
    var bootstrap: [PeerAddress]
    var startInstant: Instant?
    let unixTimeAtStart: UInt64
    /// Set by the host when it has gossip of its own waiting for piggyback space (task adverts):
    /// the periodic gossip then goes out even with no membership update queued.
    public var hostHasGossip = false
    /// Whether claims applied now are queued for gossip (see `apply(_:now:spread:effects:)`).
    var spreading = true
    /// Whether an exchange has completed since start (the first one is the join).
    var hasSynced = false
    /// The earliest `notAfter` among members' certificates, so reaping scans only when one can lapse.
    var nextCertificateExpiry = UInt64.max

    struct PendingProbe {
        let sequence: UInt32
        let target: NodeID
        var acked = false
        var expectedNacks = 0
        var nacks = 0
        var streamOutstanding = false
    }

    struct ForwardedProbe {
        let requester: NodeID
        let requesterAddress: PeerAddress
        let requesterSequence: UInt32
    }

    /// - Parameters:
    ///   - startIncarnation: above every incarnation this node announced before (from its store).
    ///   - unixTimeAtStart: wall-clock seconds when the host starts the machine; certificate windows
    ///     are checked against `unixTimeAtStart + (now - start)`.
    public init(identity: SigningKey, certificate: Certificate, authority: PublicKey, revocations: [Revocation],
                address: PeerAddress, tags: [String: String], bootstrap: [PeerAddress], startIncarnation: UInt64,
                unixTimeAtStart: UInt64, settings: MembershipSettings, signatureCache: SignatureCache,
                initialMembers: [ClaimBox] = []) {
        precondition(certificate.node.publicKey == identity.publicKey, "the certificate must be this node's")
        self.settings = settings
        self.identity = identity
        self.me = NodeID(identity.publicKey)
        self.authority = authority
        self.signatureCache = signatureCache
        self.certificate = certificate
        self.incarnation = startIncarnation
        self.address = address
        self.tags = tags
        self.bootstrap = bootstrap.filter { $0 != address }
        self.unixTimeAtStart = unixTimeAtStart
        self.queue = DisseminationQueue(capacity: settings.broadcastQueueMax)
        self.selfAlive = SignedClaim.sign(
            .alive(AliveClaim(certificate: certificate, incarnation: startIncarnation, address: address, tags: tags)),
            with: identity)
        for revocation in revocations { try? self.revocations.insert(revocation, authority: authority) }
        // A warm start from members known before (a trusted snapshot: the store's own records, or a
        // simulation that starts from a converged cluster). Probe order is shuffled at start.
        members.reserveCapacity(initialMembers.count)
        probeOrder.reserveCapacity(initialMembers.count)
        for box in initialMembers {
            guard let alive = box.alive, alive.node != me, members[alive.node] == nil,
                  members.count < settings.membersMax, self.revocations.revocation(of: alive.node) == nil else { continue }
            members[alive.node] = MemberRecord(alive: box, state: .alive, incarnation: alive.incarnation, stateSince: .zero)
            probeOrder.append(alive.node)
            liveCount += 1
            nextCertificateExpiry = min(nextCertificateExpiry, alive.certificate.notAfter)
        }
    }

    // MARK: Helpers shared by the extensions

    mutating func count(_ name: String) { counters[name, default: 0] += 1 }

    /// Wall-clock seconds at `now`, from the wall clock the host gave at start.
    public func unixTime(at now: Instant) -> UInt64 {
        guard let startInstant else { return unixTimeAtStart }
        let elapsed = max(0, (now - startInstant).nanoseconds / 1_000_000_000)
        return unixTimeAtStart + UInt64(elapsed)
    }

    /// The time between two anti-entropy exchanges: `antiEntropyInterval` up to
    /// `antiEntropyScaleFrom` live members, then × (ceil(log2(N / that)) + 1), as memberlist scales
    /// push/pull (from 32 members). Each exchange carries a digest of every member, so a fixed
    /// interval makes the cluster's sync work grow as N²: at 10,000 peers, every 30 s it was most
    /// of the simulator's time (and of each peer's). Up to 1,024 the interval stays: there,
    /// anti-entropy is what repairs a refutation that missed a peer under loss.
    var antiEntropyPeriod: Duration {
        var factor = 1, size = max(1, settings.antiEntropyScaleFrom)
        while size < liveCount {
            size *= 2
            factor += 1
        }
        return settings.antiEntropyInterval * factor
    }

    /// How many times each update is sent: multiplier × max(2, ceil(log10(N + 1))).
    var transmitLimit: Int {
        var digits = 0
        var n = liveCount + 1
        var power = 1
        while power < n {
            power *= 10
            digits += 1
        }
        // At least two "digits": in small clusters log10 N is tiny and a node too often misses an update.
        n = max(2, digits)
        return settings.retransmitMultiplier * n
    }

    func scaledByHealth(_ duration: Duration) -> Duration { duration.scaled(by: Double(localHealth + 1)) }

    /// How well this node reaches `node`, in (0, 1]: a moving average of its own probes of it
    /// (1 = every probe acked at once; 1 for a member not probed yet). Tasks weigh coordinator
    /// candidates with it (docs/tasks.md). For this node itself: 1 / (local health + 1).
    public func linkQuality(of node: NodeID) -> Double {
        if node == me { return 1 / Double(localHealth + 1) }
        return max(Self.linkQualityFloor, probeQuality[node] ?? 1)
    }

    static let linkQualityFloor = 0.05
    /// Weight of the newest probe in `linkQuality`'s moving average.
    static let linkQualityWeight = 0.25

    mutating func recordProbe(of node: NodeID, quality outcome: Double) {
        guard members[node] != nil else { return }
        let previous = probeQuality[node] ?? 1
        probeQuality[node] = previous + Self.linkQualityWeight * (outcome - previous)
    }

    mutating func adjustHealth(_ delta: Int) {
        localHealth = min(settings.localHealthMax, max(0, localHealth + delta))
    }

    mutating func nextProbeSequence() -> UInt32 {
        defer { nextSequence &+= 1 }
        return nextSequence
    }

    /// A uniformly random subset of members in `states`, excluding `excluded`.
    func randomMembers<R: RandomNumberGenerator>(
        count wanted: Int, states: Set<MemberState> = [.alive], excluding excluded: Set<NodeID> = [],
        random: inout R
    ) -> [MemberRecord] {
        guard wanted > 0, !probeOrder.isEmpty else { return [] }
        var chosen: [MemberRecord] = []
        var seen: Set<NodeID> = []
        // Rejection sampling over the probe order: cheap when most members qualify, bounded otherwise.
        var attempts = 0
        while chosen.count < wanted && attempts < wanted * 8 + 16 {
            attempts += 1
            let candidate = probeOrder[Int.random(in: 0..<probeOrder.count, using: &random)]
            guard !seen.contains(candidate), !excluded.contains(candidate),
                  let record = members[candidate], states.contains(record.state) else { continue }
            seen.insert(candidate)
            chosen.append(record)
        }
        return chosen
    }

    /// Every member, in probe order. Behaviour never depends on dictionary order (which changes
    /// from process to process): whatever iterates over members iterates over this.
    public var orderedMembers: [MemberRecord] { probeOrder.compactMap { members[$0] } }

    /// Revocations ordered by node, for the same reason.
    var orderedRevocations: [Revocation] {
        revocations.byNode.values.sorted { $0.node < $1.node }
    }

    /// Where a new member goes in the probe order: a position that looks random and differs from
    /// observer to observer (a SplitMix64 hash of both keys), so that no two nodes probe a newcomer
    /// in step, while merging needs no generator argument.
    func probePlacement(of node: NodeID) -> Int {
        func prefix(_ id: NodeID) -> UInt64 { id.publicKey.bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
        var z = prefix(node) ^ (prefix(me) &* 0x9E37_79B9_7F4A_7C15)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Int(z % UInt64(probeOrder.count + 1))
    }

    /// The view for `starling members` and the simulator: self first, then members in probe order
    /// (presentation sorts; the simulator reads every node's view often, so this stays O(N) and
    /// copies no strings: names, hosts and tags are shared with the claim boxes).
    public var view: [(node: NodeID, name: String, address: PeerAddress, state: MemberState, incarnation: UInt64,
                       tags: [String: String], isLocal: Bool)] {
        var rows = [(me, certificate.name, address, leaving ? MemberState.left : .alive, incarnation, tags, true)]
        rows.reserveCapacity(probeOrder.count + 1)
        for node in probeOrder {
            guard let record = members[node] else { continue }
            rows.append((record.node, record.name, record.address, record.state, record.incarnation,
                         record.aliveBox.tags, false))
        }
        return rows
    }
}
