import StarlingCrypto
import StarlingTrust

/// The merge rules: how a signed claim or a revocation changes what this node believes.
/// Every rejection is counted under `rejected.<reason>` and every stale duplicate under `stale`.
extension Membership {
    enum Outcome: Equatable {
        /// New information: it changed our view and should be spread further.
        case accepted
        /// Already known or superseded.
        case stale
        case rejected(String)
    }

    /// Checks a certificate once per distinct certificate (the signature is cached) and its window
    /// against the wall clock.
    func certificateProblem(_ certificate: Certificate, now: Instant) -> String? {
        guard certificate.authority == authority else { return "certificate from another authority" }
        guard signatureCache.isValid(certificate.signature, for: certificate.signedBytes, by: authority) else {
            return "certificate signature invalid"
        }
        let wall = unixTime(at: now), skew = TrustLimits.clockSkewSeconds
        if wall + skew < certificate.notBefore { return "certificate not yet valid" }
        if wall > certificate.notAfter + skew { return "certificate expired" }
        if revocations.revocation(of: certificate.node) != nil { return "revoked node" }
        if !certificate.roles.contains(.peer) { return "certificate lacks the peer role" }
        return nil
    }

    /// Applies one signed claim, returning effects (state changes, timers, refutations).
    ///
    /// `spread: false` merges without queueing the claim for gossip: anti-entropy uses it for the
    /// old news it repairs, so a joining node does not re-gossip the whole table.
    @discardableResult
    mutating func apply(_ signed: SignedClaim, now: Instant, spread: Bool = true, effects: inout [MembershipEffect]) -> Outcome {
        let wasSpreading = spreading
        spreading = spread
        defer { spreading = wasSpreading }
        let outcome = evaluate(signed, now: now, effects: &effects)
        switch outcome {
        case .accepted: count("claims.accepted")
        case .stale: count("claims.stale")
        case let .rejected(reason): count("rejected.\(reason)")
        }
        return outcome
    }

    private mutating func evaluate(_ signed: SignedClaim, now: Instant, effects: inout [MembershipEffect]) -> Outcome {
        let claim = signed.claim
        if revocations.revocation(of: claim.subject) != nil { return .rejected("revoked subject") }
        if revocations.revocation(of: claim.author) != nil { return .rejected("revoked author") }
        switch claim {
        case let .alive(alive):
            return applyAlive(alive, signed: signed, now: now, effects: &effects)
        case let .suspect(node, claimed, accuser), let .dead(node, claimed, accuser):
            return applyAccusation(signed, node: node, claimed: claimed, accuser: accuser, now: now, effects: &effects)
        case let .leave(node, claimed):
            return applyLeave(signed, node: node, claimed: claimed, now: now, effects: &effects)
        }
    }

    private mutating func applyAlive(_ alive: AliveClaim, signed: SignedClaim, now: Instant,
                                     effects: inout [MembershipEffect]) -> Outcome {
        let node = alive.node
        if node == me {
            // Our own claim coming back: only a higher incarnation than ours matters (we restarted
            // and others remember an older life): adopt it and announce above it.
            guard alive.incarnation >= incarnation, signed != selfAlive else { return .stale }
            guard signed.hasValidSignature(cache: signatureCache) else { return .rejected("bad signature") }
            refute(above: alive.incarnation, now: now, effects: &effects)
            return .accepted
        }
        if let record = members[node] {
            // Only the member can raise its incarnation; an equal one never clears a suspicion.
            guard alive.incarnation > record.aliveClaim.incarnation else { return .stale }
        } else if let tombstone = tombstones[node], alive.incarnation <= tombstone.incarnation {
            return .stale
        }
        if let problem = certificateProblem(alive.certificate, now: now) { return .rejected(problem) }
        guard alive.tags.count <= settings.tagsMax,
              alive.tags.allSatisfy({ $0.key.utf8.count <= settings.tagBytesMax && $0.value.utf8.count <= settings.tagBytesMax })
        else { return .rejected("tags over limit") }
        guard let box = signatureCache.verifiedBox(signed) else { return .rejected("bad signature") }

        if var record = members[node] {
            let previous = record.state
            record.aliveBox = box
            record.incarnation = alive.incarnation
            record.stateBox = nil
            if previous != .alive {
                setState(&record, .alive, now: now)
                effects.append(.event(.stateChanged(node, name: record.name, .alive, incarnation: alive.incarnation)))
            }
            members[node] = record
            cancelSuspicion(of: node, effects: &effects)
            // The verdict this claim overturns need not spread any further.
            queue.remove(.verdict(node))
        } else {
            guard members.count < settings.membersMax else { return .rejected("member table full") }
            tombstones[node] = nil
            let record = MemberRecord(alive: box, state: .alive, incarnation: alive.incarnation, stateSince: now)
            members[node] = record
            liveCount += 1
            nextCertificateExpiry = min(nextCertificateExpiry, alive.certificate.notAfter)
            // New members go to a random-looking place in the probe order (SWIM's shuffled round robin).
            probeOrder.insert(node, at: probePlacement(of: node))
            effects.append(.event(.joined(node, name: record.name, address: alive.address)))
        }
        enqueueIfSpreading(.claim(signed), key: .member(node))
        return .accepted
    }

    private mutating func applyAccusation(_ signed: SignedClaim, node: NodeID, claimed: UInt64, accuser: NodeID,
                                          now: Instant, effects: inout [MembershipEffect]) -> Outcome {
        let isDead = signed.claim.state == .dead
        if node == me {
            // Someone thinks we are failing. A claim about an incarnation we never announced is forged.
            guard claimed <= incarnation else { return .rejected("incarnation never announced") }
            guard !leaving else { return .stale }
            guard claimed == incarnation else {
                // An accusation about an older life: whoever made it missed our refutation. Spread
                // our current claim again rather than leave it to anti-entropy.
                if !queue.contains(.member(me)) { queue.enqueue(.claim(selfAlive), key: .member(me)) }
                return .stale
            }
            guard accuser == me || members[accuser] != nil else { return .rejected("unknown accuser") }
            guard signed.hasValidSignature(cache: signatureCache) else { return .rejected("bad signature") }
            adjustHealth(1)
            refute(above: claimed, now: now, effects: &effects)
            return .accepted
        }
        guard var record = members[node] else { return .rejected("unknown subject") }
        guard claimed <= record.aliveClaim.incarnation else { return .rejected("incarnation never announced") }
        guard claimed >= record.incarnation else { return .stale }
        if record.state == .dead || record.state == .left { return .stale }
        guard accuser == me || members[accuser] != nil else { return .rejected("unknown accuser") }
        let box: ClaimBox
        if accuser == me {
            box = ClaimBox(signed)
        } else {
            guard let verified = signatureCache.verifiedBox(signed) else { return .rejected("bad signature") }
            box = verified
        }

        if isDead {
            conclude(&record, .dead, at: claimed, by: box, now: now, effects: &effects)
            return .accepted
        }

        if record.state == .suspect && record.incarnation == claimed {
            // Another accuser for the same incarnation: a Lifeguard confirmation shortens the timer.
            guard var suspicion = suspicions[node], suspicion.confirm(by: accuser) else { return .stale }
            suspicions[node] = suspicion
            effects.append(.setTimer(.suspicion(node), at: suspicion.deadline))
            enqueueIfSpreading(.claim(signed), key: .verdict(node))
            return .accepted
        }

        record.incarnation = claimed
        record.stateBox = box
        setState(&record, .suspect, now: now)
        members[node] = record
        let bounds = Suspicion.bounds(clusterSize: liveCount, settings: settings)
        let suspicion = Suspicion(
            incarnation: claimed, accuser: accuser, start: now, minimum: bounds.minimum, maximum: bounds.maximum,
            expectedConfirmations: max(1, Int(settings.suspicionMultiplier) - 2))
        suspicions[node] = suspicion
        effects.append(.setTimer(.suspicion(node), at: suspicion.deadline))
        effects.append(.event(.stateChanged(node, name: record.name, .suspect, incarnation: claimed)))
        enqueueIfSpreading(.claim(signed), key: .verdict(node))
        return .accepted
    }

    private mutating func applyLeave(_ signed: SignedClaim, node: NodeID, claimed: UInt64, now: Instant,
                                     effects: inout [MembershipEffect]) -> Outcome {
        if node == me {
            guard !leaving, claimed >= incarnation else { return .stale }
            guard signed.hasValidSignature(cache: signatureCache) else { return .rejected("bad signature") }
            // A leave of ours that we did not just make: an old one replayed after a restart.
            refute(above: claimed, now: now, effects: &effects)
            return .accepted
        }
        guard var record = members[node] else { return .rejected("unknown subject") }
        guard claimed >= record.incarnation else { return .stale }
        if record.state == .left { return .stale }
        guard let box = signatureCache.verifiedBox(signed) else { return .rejected("bad signature") }
        conclude(&record, .left, at: claimed, by: box, now: now, effects: &effects)
        return .accepted
    }

    /// Records a final verdict (dead or left) and spreads it: the suspicion timer, if any, ends.
    private mutating func conclude(_ record: inout MemberRecord, _ state: MemberState, at claimed: UInt64,
                                   by box: ClaimBox, now: Instant, effects: inout [MembershipEffect]) {
        let node = record.node
        record.incarnation = claimed
        record.stateBox = box
        setState(&record, state, now: now)
        members[node] = record
        cancelSuspicion(of: node, effects: &effects)
        effects.append(.event(.stateChanged(node, name: record.name, state, incarnation: claimed)))
        enqueueIfSpreading(.claim(box.signed), key: .verdict(node))
    }

    /// Applies a revocation from the authority: the node is dropped everywhere, for good.
    @discardableResult
    mutating func apply(_ revocation: Revocation, now: Instant, spread: Bool = true, effects: inout [MembershipEffect]) -> Outcome {
        let wasSpreading = spreading
        spreading = spread
        defer { spreading = wasSpreading }
        if revocations.revocation(of: revocation.node) != nil { count("claims.stale"); return .stale }
        guard revocation.authority == authority,
              signatureCache.isValid(revocation.signature, for: revocation.signedBytes, by: authority)
        else {
            count("rejected.bad revocation")
            return .rejected("bad revocation")
        }
        try? revocations.insert(revocation, authority: authority)
        if revocation.node == me {
            effects.append(.event(.rejected(reason: "this node's key was revoked at \(revocation.revokedAt)")))
        }
        if let record = members[revocation.node] {
            remove(record, reason: "revoked", now: now, effects: &effects)
        }
        queue.remove(.member(revocation.node))
        queue.remove(.verdict(revocation.node))
        enqueueIfSpreading(.revocation(revocation), key: .revocation(revocation.node))
        count("revocations.accepted")
        return .accepted
    }

    // MARK: State bookkeeping

    mutating func enqueueIfSpreading(_ message: MembershipMessage, key: DisseminationQueue.Key) {
        if spreading { queue.enqueue(message, key: key) } else { queue.remove(key) }
    }

    mutating func setState(_ record: inout MemberRecord, _ state: MemberState, now: Instant) {
        let wasLive = record.state == .alive || record.state == .suspect
        let isLive = state == .alive || state == .suspect
        if wasLive && !isLive { liveCount -= 1 }
        if !wasLive && isLive { liveCount += 1 }
        record.state = state
        record.stateSince = now
    }

    mutating func cancelSuspicion(of node: NodeID, effects: inout [MembershipEffect]) {
        if suspicions.removeValue(forKey: node) != nil { effects.append(.cancelTimer(.suspicion(node))) }
    }

    /// Forgets a member (reaped or revoked), leaving a tombstone so replays cannot revive it.
    mutating func remove(_ record: MemberRecord, reason: String, now: Instant, effects: inout [MembershipEffect]) {
        let node = record.node
        if record.state == .alive || record.state == .suspect { liveCount -= 1 }
        members[node] = nil
        probeQuality[node] = nil
        cancelSuspicion(of: node, effects: &effects)
        if let index = probeOrder.firstIndex(of: node) {
            probeOrder.remove(at: index)
            if probeIndex > index { probeIndex -= 1 }
        }
        tombstones[node] = (max(record.incarnation, record.aliveClaim.incarnation), now)
        effects.append(.event(.removed(node, name: record.name, reason: reason)))
    }

    /// Announces ourselves alive above `claimed` (refuting a suspicion or an older life).
    mutating func refute(above claimed: UInt64, now: Instant, effects: inout [MembershipEffect]) {
        incarnation = max(incarnation, claimed) + 1
        selfAlive = SignedClaim.sign(
            .alive(AliveClaim(certificate: certificate, incarnation: incarnation, address: address, tags: tags)),
            with: identity)
        queue.enqueue(.claim(selfAlive), key: .member(me))
        queue.remove(.verdict(me))
        effects.append(.incarnationChanged(incarnation))
        effects.append(.event(.refuted(incarnation: incarnation)))
        count("refutations")
    }
}

extension Membership {
    /// Replaces this peer's tags and announces them with a new incarnation (a dataset registered
    /// while running). Refuses more tags than `settings.tagsMax` or a key or value over the wire's
    /// bound, naming which.
    public mutating func updateTags(_ newTags: [String: String], now: Instant) throws(MembershipTagError) -> [MembershipEffect] {
        guard newTags.count <= settings.tagsMax else {
            throw MembershipTagError(description: "\(newTags.count) tags, over the limit of \(settings.tagsMax) (MembershipSettings.tagsMax)")
        }
        for (key, value) in newTags where key.utf8.count > ClaimLimits.tagBytesMax || value.utf8.count > ClaimLimits.tagBytesMax {
            throw MembershipTagError(description: "tag \(key) is over \(ClaimLimits.tagBytesMax) bytes")
        }
        guard newTags != tags else { return [] }
        tags = newTags
        var effects: [MembershipEffect] = []
        refute(above: incarnation, now: now, effects: &effects)
        return effects.filter { if case .event = $0 { return false } else { return true } }
    }
}

public struct MembershipTagError: Error, CustomStringConvertible, Sendable {
    public let description: String
}
