import StarlingTrust
import StarlingWire

/// Anti-entropy: digest out, differences back, then what the responder lacked (push-pull).
extension Membership {
    /// Our digest, with our own alive claim, for an exchange we start.
    public func makeSyncRequest() -> SyncRequest {
        SyncRequest(sender: selfAlive, digest: digest())
    }

    func digest() -> [SyncDigestEntry] {
        var entries = [SyncDigestEntry(node: me, incarnation: incarnation, rank: (leaving ? MemberState.left : .alive).rawValue)]
        entries.reserveCapacity(members.count + revocations.count + 1)
        for record in orderedMembers { entries.append(record.digestEntry) }
        for revocation in orderedRevocations {
            entries.append(SyncDigestEntry(node: revocation.node, incarnation: 0, rank: SyncDigestEntry.revokedRank))
        }
        return entries
    }

    /// Answers a peer's digest with what is newer here and the subjects we want from it.
    public mutating func handleSyncRequest(_ request: SyncRequest, now: Instant) -> (response: SyncClaims, effects: [MembershipEffect]) {
        var effects: [MembershipEffect] = []
        guard case .alive = request.sender.claim else {
            count("rejected.sync without alive claim")
            return (SyncClaims(claims: [], revocations: []), effects)
        }
        // The requester's own claim is news worth spreading: this is how a join propagates.
        apply(request.sender, now: now, effects: &effects)
        count("sync.served")

        var theirs: [NodeID: SyncDigestEntry] = [:]
        theirs.reserveCapacity(request.digest.count)
        for entry in request.digest { theirs[entry.node] = entry }

        var budget = ClaimBudget()
        var revocationsToSend: [Revocation] = []
        for revocation in orderedRevocations where theirs[revocation.node]?.rank != SyncDigestEntry.revokedRank {
            guard budget.fits(revocation.wireBytes.count) else { break }
            revocationsToSend.append(revocation)
        }
        // Our own alive claim always goes first: the requester may hold us dead from before a
        // partition, and this is how it learns we are back.
        var claims: [SignedClaim] = []
        if budget.fits(selfAlive.wireBytes.count) { claims.append(selfAlive) }
        for record in orderedMembers {
            let mine = record.digestEntry
            if let known = theirs[record.node], !mine.isNewer(than: known) { continue }
            guard budget.fits(record.alive.wireBytes.count + (record.stateClaim?.wireBytes.count ?? 0)) else {
                count("sync.truncated")
                break
            }
            claims.append(record.alive)
            if let stateClaim = record.stateClaim { claims.append(stateClaim) }
        }
        var wanted: [NodeID] = []
        for entry in request.digest {
            if entry.node == me {
                // The requester holds a verdict about us at our incarnation: fetch it, to refute it.
                if entry.rank != MemberState.alive.rawValue && entry.incarnation >= incarnation && !leaving {
                    wanted.append(me)
                }
                continue
            }
            if entry.rank == SyncDigestEntry.revokedRank {
                if revocations.revocation(of: entry.node) == nil { wanted.append(entry.node) }
            } else if revocations.revocation(of: entry.node) == nil {
                if let record = members[entry.node] {
                    if entry.isNewer(than: record.digestEntry) { wanted.append(entry.node) }
                } else if (tombstones[entry.node]?.incarnation ?? 0) < entry.incarnation || tombstones[entry.node] == nil {
                    wanted.append(entry.node)
                }
            }
            if wanted.count >= SyncLimits.digestEntriesMax { break }
        }
        return (SyncClaims(claims: claims, revocations: revocationsToSend, wanted: wanted), effects)
    }

    /// Merges a response; returns what the responder asked for, to push back (nil when nothing).
    public mutating func handleSyncResponse(_ response: SyncClaims, now: Instant) -> (push: SyncClaims?, effects: [MembershipEffect]) {
        let incarnationBefore = incarnation
        var effects = merge(response, now: now)
        count("sync.completed")
        if !hasSynced {
            hasSynced = true
            effects.append(.setTimer(.antiEntropy, at: now + settings.joinFollowUpDelay))
        }
        guard !response.wanted.isEmpty || incarnationBefore != incarnation else { return (nil, effects) }
        var budget = ClaimBudget()
        // Our own alive claim always rides along (we may just have refuted a verdict from the responder).
        var claims: [SignedClaim] = [selfAlive]
        _ = budget.fits(selfAlive.wireBytes.count)
        var revocationsToSend: [Revocation] = []
        for node in response.wanted where node != me {
            if let revocation = revocations.revocation(of: node) {
                guard budget.fits(revocation.wireBytes.count) else { break }
                revocationsToSend.append(revocation)
            } else if node == me {
                guard budget.fits(selfAlive.wireBytes.count) else { break }
                claims.append(selfAlive)
            } else if let record = members[node] {
                guard budget.fits(record.alive.wireBytes.count + (record.stateClaim?.wireBytes.count ?? 0)) else { break }
                claims.append(record.alive)
                if let stateClaim = record.stateClaim { claims.append(stateClaim) }
            }
        }
        return (SyncClaims(claims: claims, revocations: revocationsToSend), effects)
    }

    /// Merges the claims a requester pushed after our response.
    public mutating func handleSyncPush(_ push: SyncClaims, now: Instant) -> [MembershipEffect] {
        merge(push, now: now)
    }

    /// Merges claims from an exchange. Members new to us are old news to the cluster and are not
    /// re-gossiped; a claim that changes what we believed of a known member (dead → alive after a
    /// partition, alive → dead) is news, and is. Revocations always are.
    private mutating func merge(_ received: SyncClaims, now: Instant) -> [MembershipEffect] {
        var effects: [MembershipEffect] = []
        for revocation in received.revocations { apply(revocation, now: now, effects: &effects) }
        // Alive claims first: a suspicion is only accepted once its accuser is known, and the
        // accuser may come later in the same message.
        let ordered = received.claims.filter { $0.claim.state == .alive } + received.claims.filter { $0.claim.state != .alive }
        for claim in ordered {
            let known = members[claim.claim.subject] != nil || claim.claim.subject == me
            apply(claim, now: now, spread: known, effects: &effects)
        }
        return effects
    }
}

/// Keeps a sync message under the frame limit.
struct ClaimBudget {
    private var remaining = WireLimits.frameBytesMax - SyncLimits.frameHeadroomBytes

    mutating func fits(_ bytes: Int) -> Bool {
        guard bytes <= remaining else { return false }
        remaining -= bytes
        return true
    }
}
