import StarlingCrypto
import StarlingTrust

/// The SWIM protocol proper: probing, indirect probes, suspicion expiry, gossip, leave, reaping.
extension Membership {
    /// Starts the timers and, when a bootstrap list is given, the join.
    public mutating func start<R: RandomNumberGenerator>(now: Instant, random: inout R) -> [MembershipEffect] {
        var effects: [MembershipEffect] = []
        startInstant = now
        probeOrder.shuffle(using: &random)
        queue.enqueue(.claim(selfAlive), key: .member(me))
        // Revocations this node was started with (its store, DIR/revocations/) are news to spread.
        for revocation in orderedRevocations { queue.enqueue(.revocation(revocation), key: .revocation(revocation.node)) }
        effects.append(.incarnationChanged(incarnation))
        // Spread the periodic timers over their periods so a cluster started at once does not beat in step.
        effects.append(.setTimer(.probe, at: now + jitter(settings.probeInterval, random: &random)))
        effects.append(.setTimer(.gossip, at: now + jitter(settings.gossipInterval, random: &random)))
        effects.append(.setTimer(.antiEntropy, at: now + antiEntropyPeriod + jitter(antiEntropyPeriod, random: &random)))
        effects.append(.setTimer(.reap, at: now + reapCheckInterval))
        if !bootstrap.isEmpty {
            effects.append(.setTimer(.bootstrap, at: now))
        }
        return effects
    }

    var reapCheckInterval: Duration { min(settings.reapAfter, .seconds(10)) }

    func jitter<R: RandomNumberGenerator>(_ period: Duration, random: inout R) -> Duration {
        .nanoseconds(Int64.random(in: 0...max(1, period.nanoseconds), using: &random))
    }

    /// Handles the messages of one authenticated datagram from `sender` at `address`.
    public mutating func receive<R: RandomNumberGenerator>(
        _ messages: [MembershipMessage], from sender: NodeID, address: PeerAddress, now: Instant, random: inout R
    ) -> [MembershipEffect] {
        var effects: [MembershipEffect] = []
        if revocations.revocation(of: sender) != nil {
            count("dropped.revoked sender")
            return effects
        }
        // Claims first, so an ack that piggybacks a refutation is seen with it; revocations and
        // alive claims before accusations, whose accuser may be introduced in the same datagram.
        for case let .revocation(revocation) in messages { apply(revocation, now: now, effects: &effects) }
        for case let .claim(claim) in messages where claim.claim.state == .alive { apply(claim, now: now, effects: &effects) }
        for case let .claim(claim) in messages where claim.claim.state != .alive { apply(claim, now: now, effects: &effects) }
        // Buddy system, answering side: a prober that holds us suspect or dead says so in its ping;
        // our ack then carries our current alive claim, so the refutation reaches it for certain.
        let accusedHere = messages.contains { message in
            guard case let .claim(claim) = message, claim.claim.subject == me else { return false }
            return claim.claim.state == .suspect || claim.claim.state == .dead
        }
        for message in messages {
            switch message {
            case let .ping(sequence, target):
                guard target == me else {
                    count("dropped.ping for another node")
                    continue
                }
                let reply: [MembershipMessage] = accusedHere ? [.ack(sequence: sequence), .claim(selfAlive)] : [.ack(sequence: sequence)]
                effects.append(.send(to: sender, address: address, messages: reply, piggyback: true))
            case let .ack(sequence):
                handleAck(sequence, from: sender, effects: &effects)
            case let .nack(sequence):
                if var probe = pendingProbe, probe.sequence == sequence {
                    probe.nacks += 1
                    pendingProbe = probe
                }
            case let .pingRequest(sequence, target, targetAddress):
                guard forwardedProbes.count < settings.pendingProbesMax else {
                    count("dropped.too many forwarded probes")
                    continue
                }
                guard target != me else {
                    effects.append(.send(to: sender, address: address, messages: [.ack(sequence: sequence)], piggyback: false))
                    continue
                }
                let ownSequence = nextProbeSequence()
                forwardedProbes[ownSequence] = ForwardedProbe(requester: sender, requesterAddress: address, requesterSequence: sequence)
                var outgoing: [MembershipMessage] = [.ping(sequence: ownSequence, target: target)]
                if let record = members[target], record.state == .suspect, let claim = record.stateClaim {
                    outgoing.append(.claim(claim))
                }
                effects.append(.send(to: target, address: targetAddress, messages: outgoing, piggyback: false))
                // Lifeguard: answer with a nack before the requester's own deadline if no ack comes.
                effects.append(.setTimer(.forwardedProbe(ownSequence), at: now + settings.probeTimeout.scaled(by: 0.8)))
            case .claim, .revocation:
                break
            }
        }
        return effects
    }

    private mutating func handleAck(_ sequence: UInt32, from sender: NodeID, effects: inout [MembershipEffect]) {
        if var probe = pendingProbe, probe.sequence == sequence, !probe.acked {
            probe.acked = true
            pendingProbe = probe
            adjustHealth(-1)
            // Acked directly (before the timeout) or only through helpers or the stream.
            recordProbe(of: probe.target, quality: probe.expectedNacks == 0 && !probe.streamOutstanding ? 1 : 0.5)
            effects.append(.cancelTimer(.probeTimeout(sequence)))
            count("probes.acked")
            return
        }
        if let probe = lingeringProbes.removeValue(forKey: sequence) {
            adjustHealth(-1)
            recordProbe(of: probe.target, quality: 0.25)
            count("probes.acked late over a stream")
            return
        }
        if let forwarded = forwardedProbes.removeValue(forKey: sequence) {
            effects.append(.cancelTimer(.forwardedProbe(sequence)))
            effects.append(.send(to: forwarded.requester, address: forwarded.requesterAddress,
                                 messages: [.ack(sequence: forwarded.requesterSequence)], piggyback: false))
            return
        }
        count("probes.late ack")
    }

    public mutating func timerFired<R: RandomNumberGenerator>(
        _ timer: MembershipTimer, now: Instant, random: inout R
    ) -> [MembershipEffect] {
        var effects: [MembershipEffect] = []
        switch timer {
        case .probe: probeTick(now: now, random: &random, effects: &effects)
        case let .probeTimeout(sequence): probeTimedOut(sequence, now: now, random: &random, effects: &effects)
        case let .forwardedProbe(sequence):
            if let forwarded = forwardedProbes.removeValue(forKey: sequence) {
                effects.append(.send(to: forwarded.requester, address: forwarded.requesterAddress,
                                     messages: [.nack(sequence: forwarded.requesterSequence)], piggyback: false))
            }
        case .gossip: gossipTick(now: now, random: &random, effects: &effects)
        case .antiEntropy:
            if let peer = randomMembers(count: 1, random: &random).first {
                effects.append(.sync(to: peer.address))
            }
            // Reconnect (as Serf does): also try one member we hold dead. After a partition heals,
            // this is how the two sides find each other again; each refutes the other's verdict.
            if let dead = randomMembers(count: 1, states: [.dead], random: &random).first {
                effects.append(.sync(to: dead.address))
                count("sync.reconnect attempts")
            }
            effects.append(.setTimer(.antiEntropy, at: now + antiEntropyPeriod))
        case .bootstrap:
            // Keep trying the bootstrap list while we know nobody alive.
            if liveCount <= 1 && !leaving {
                for address in bootstrap { effects.append(.sync(to: address)) }
                effects.append(.setTimer(.bootstrap, at: now + settings.bootstrapRetryInterval))
            }
        case .reap: reap(now: now, effects: &effects)
        case let .suspicion(node): suspicionExpired(node, now: now, effects: &effects)
        case .leaveDone: effects.append(.leaveComplete)
        }
        return effects
    }

    private mutating func probeTick<R: RandomNumberGenerator>(now: Instant, random: inout R, effects: inout [MembershipEffect]) {
        effects.append(.setTimer(.probe, at: now + scaledByHealth(settings.probeInterval)))
        if let probe = pendingProbe, !probe.acked {
            if probe.streamOutstanding && lingeringProbes.count < settings.pendingProbesMax {
                // The stream probe may still answer (a lost SYN costs TCP a second): the verdict
                // waits for it, so random loss alone does not raise a suspicion.
                lingeringProbes[probe.sequence] = probe
            } else {
                probeFailed(probe, now: now, effects: &effects)
            }
        }
        pendingProbe = nil
        guard !leaving, let target = nextProbeTarget(random: &random), let record = members[target] else { return }
        let sequence = nextProbeSequence()
        pendingProbe = PendingProbe(sequence: sequence, target: target)
        var messages: [MembershipMessage] = [.ping(sequence: sequence, target: target)]
        // Buddy system: a suspect learns of its suspicion from whoever probes it, and can refute.
        if record.state == .suspect, let claim = record.stateClaim { messages.append(.claim(claim)) }
        effects.append(.send(to: target, address: record.address, messages: messages, piggyback: true))
        effects.append(.setTimer(.probeTimeout(sequence), at: now + scaledByHealth(settings.probeTimeout)))
        count("probes.sent")
    }

    /// The next member in shuffled round-robin order; reshuffled after each full pass.
    private mutating func nextProbeTarget<R: RandomNumberGenerator>(random: inout R) -> NodeID? {
        guard !probeOrder.isEmpty else { return nil }
        for _ in 0..<probeOrder.count {
            if probeIndex >= probeOrder.count {
                probeOrder.shuffle(using: &random)
                probeIndex = 0
            }
            let candidate = probeOrder[probeIndex]
            probeIndex += 1
            if let record = members[candidate], record.state == .alive || record.state == .suspect {
                return candidate
            }
        }
        return nil
    }

    private mutating func probeTimedOut<R: RandomNumberGenerator>(
        _ sequence: UInt32, now: Instant, random: inout R, effects: inout [MembershipEffect]
    ) {
        guard var probe = pendingProbe, probe.sequence == sequence, !probe.acked,
              let record = members[probe.target] else { return }
        let helpers = randomMembers(count: settings.indirectProbeCount, excluding: [probe.target], random: &random)
        for helper in helpers {
            effects.append(.send(to: helper.node, address: helper.address,
                                 messages: [.pingRequest(sequence: sequence, target: probe.target, address: record.address)],
                                 piggyback: false))
        }
        probe.expectedNacks = helpers.count
        count("probes.indirect")
        if settings.streamProbeFallback {
            var messages: [MembershipMessage] = [.ping(sequence: sequence, target: probe.target)]
            if record.state == .suspect, let claim = record.stateClaim { messages.append(.claim(claim)) }
            effects.append(.streamProbe(to: probe.target, address: record.address, messages: messages,
                                        timeout: scaledByHealth(settings.streamProbeTimeout)))
            probe.streamOutstanding = true
        }
        pendingProbe = probe
    }

    /// The host's stream probe for `sequence` failed (refused, timed out, or a bad answer). A
    /// probe whose period has ended fails now; one still in its period fails at its end.
    public mutating func streamProbeFailed(sequence: UInt32, now: Instant) -> [MembershipEffect] {
        var effects: [MembershipEffect] = []
        if let probe = lingeringProbes.removeValue(forKey: sequence) {
            probeFailed(probe, now: now, effects: &effects)
        } else if var probe = pendingProbe, probe.sequence == sequence {
            probe.streamOutstanding = false
            pendingProbe = probe
        }
        return effects
    }

    private mutating func probeFailed(_ probe: PendingProbe, now: Instant, effects: inout [MembershipEffect]) {
        count("probes.failed")
        recordProbe(of: probe.target, quality: 0)
        // Lifeguard: missing nacks mean our own link is the problem; with no helpers, any failure counts.
        adjustHealth(probe.expectedNacks > 0 ? max(0, probe.expectedNacks - probe.nacks) : 1)
        guard let record = members[probe.target], record.incarnation == record.aliveClaim.incarnation else { return }
        switch record.state {
        case .alive:
            break
        case .suspect:
            // Already suspected by someone else: our own failed probe is an independent
            // confirmation (Lifeguard), unless we are already among its accusers.
            guard let suspicion = suspicions[probe.target], !suspicion.hasAccused(me) else { return }
        case .dead, .left:
            return
        }
        let claim = SignedClaim.sign(.suspect(node: probe.target, incarnation: record.incarnation, accuser: me), with: identity)
        apply(claim, now: now, effects: &effects)
    }

    private mutating func suspicionExpired(_ node: NodeID, now: Instant, effects: inout [MembershipEffect]) {
        guard let suspicion = suspicions[node], let record = members[node], record.state == .suspect,
              record.incarnation == suspicion.incarnation else { return }
        guard now >= suspicion.deadline else {
            effects.append(.setTimer(.suspicion(node), at: suspicion.deadline))
            return
        }
        let claim = SignedClaim.sign(.dead(node: node, incarnation: suspicion.incarnation, accuser: me), with: identity)
        apply(claim, now: now, effects: &effects)
    }

    private mutating func gossipTick<R: RandomNumberGenerator>(now: Instant, random: inout R, effects: inout [MembershipEffect]) {
        effects.append(.setTimer(.gossip, at: now + settings.gossipInterval))
        guard !queue.isEmpty || hostHasGossip else { return }
        for target in randomMembers(count: settings.gossipFanout, states: [.alive, .suspect], random: &random) {
            effects.append(.send(to: target.node, address: target.address, messages: [], piggyback: true))
        }
    }

    private mutating func reap(now: Instant, effects: inout [MembershipEffect]) {
        effects.append(.setTimer(.reap, at: now + reapCheckInterval))
        let wall = unixTime(at: now)
        let deadOrLeft = members.count - (liveCount - 1)
        // The scan is O(members): skip it unless something can be reaped or a certificate can lapse.
        if deadOrLeft > 0 || wall + TrustLimits.clockSkewSeconds >= nextCertificateExpiry {
            var earliest = UInt64.max
            for record in orderedMembers {
                let notAfter = record.aliveClaim.certificate.notAfter
                if (record.state == .dead || record.state == .left) && now - record.stateSince >= settings.reapAfter {
                    remove(record, reason: "reaped after \(record.state)", now: now, effects: &effects)
                } else if wall > notAfter + TrustLimits.clockSkewSeconds {
                    remove(record, reason: "certificate expired", now: now, effects: &effects)
                } else {
                    earliest = min(earliest, notAfter)
                }
            }
            nextCertificateExpiry = earliest
        }
        // Tombstones outlive their members by a wide margin, then go; the table stays bounded.
        let tombstoneLifetime = settings.reapAfter.scaled(by: 24)
        if !tombstones.isEmpty {
            tombstones = tombstones.filter { now - $0.value.since < tombstoneLifetime }
            if tombstones.count > settings.membersMax {
                let oldest = tombstones.sorted { $0.value.since < $1.value.since }.prefix(tombstones.count - settings.membersMax)
                for (node, _) in oldest { tombstones[node] = nil }
            }
        }
    }

    /// Leaves gracefully: announce a signed leave, spread it for a few gossip rounds, then finish.
    public mutating func leave<R: RandomNumberGenerator>(now: Instant, random: inout R) -> [MembershipEffect] {
        var effects: [MembershipEffect] = []
        guard !leaving else { return effects }
        leaving = true
        let claim = SignedClaim.sign(.leave(node: me, incarnation: incarnation), with: identity)
        queue.enqueue(.claim(claim), key: .verdict(me))
        for target in randomMembers(count: settings.gossipFanout * 2, states: [.alive, .suspect], random: &random) {
            effects.append(.send(to: target.node, address: target.address, messages: [.claim(claim)], piggyback: true))
        }
        effects.append(.setTimer(.leaveDone, at: now + (liveCount > 1 ? settings.gossipInterval * 3 : .zero)))
        return effects
    }

    /// Queued claims that fit in `budget` bytes, for the host to piggyback on a datagram.
    public mutating func takeBroadcasts(budget: Int) -> (messages: [MembershipMessage], bytes: Int) {
        queue.take(budget: budget, transmitLimit: transmitLimit)
    }

    public var hasBroadcasts: Bool { !queue.isEmpty }
}
