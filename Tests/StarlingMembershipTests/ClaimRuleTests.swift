import StarlingCrypto
@testable import StarlingMembership
import StarlingTrust
import Testing

/// The merge rules: who may say what about whom (docs/security.md).
@Suite struct ClaimRuleTests {
    let cluster = TestCluster()

    @Test func aCertifiedAliveClaimAddsAMember() {
        var membership = cluster.membership(0)
        _ = membership.deliver([cluster.alive(1)], from: 1, cluster: cluster)
        #expect(membership.state(of: cluster.node(1)) == .alive)
        #expect(membership.members[cluster.node(1)]?.aliveClaim.tagDictionary == ["zone": "edge-1"])
        #expect(membership.liveCount == 2)
    }

    @Test func refusesCertificatesItShouldNotTrust() {
        var membership = cluster.membership(0)
        let otherAuthority = Authority(signingKey: cluster.key(90))
        let foreign = try! otherAuthority.admit(cluster.node(1), name: "n", roles: [.peer], now: TestCluster.startTime, validFor: 100)
        let expired = cluster.certificate(2, validFor: 10, now: TestCluster.startTime - 10_000)
        let notYet = cluster.certificate(3, now: TestCluster.startTime + 10_000)
        let noPeerRole = cluster.certificate(4, roles: [.submit])
        _ = membership.deliver([
            cluster.alive(1, certificate: foreign), cluster.alive(2, certificate: expired),
            cluster.alive(3, certificate: notYet), cluster.alive(4, certificate: noPeerRole),
        ], from: 5, cluster: cluster)
        #expect(membership.members.isEmpty)
        #expect(membership.counters["rejected.certificate from another authority"] == 1)
        #expect(membership.counters["rejected.certificate expired"] == 1)
        #expect(membership.counters["rejected.certificate not yet valid"] == 1)
        #expect(membership.counters["rejected.certificate lacks the peer role"] == 1)
    }

    @Test func nobodyCanSpeakForAnotherNode() {
        var membership = cluster.membership(0)
        // Node 2 signs an alive claim about node 1.
        _ = membership.deliver([cluster.alive(1, signer: cluster.key(2))], from: 2, cluster: cluster)
        #expect(membership.members.isEmpty)
        #expect(membership.counters["rejected.bad signature"] == 1)
        // Node 2 signs a suspicion naming node 3 as the accuser.
        _ = membership.deliver([cluster.alive(1), cluster.alive(2), cluster.alive(3)], from: 1, cluster: cluster)
        let forged = SignedClaim(claim: .suspect(node: cluster.node(1), incarnation: 1, accuser: cluster.node(3)),
                                 signature: cluster.key(2).sign(SignedClaim.bytesToSign(.suspect(node: cluster.node(1), incarnation: 1, accuser: cluster.node(3)))))
        _ = membership.deliver([forged], from: 2, cluster: cluster)
        #expect(membership.state(of: cluster.node(1)) == .alive)
        #expect(membership.counters["rejected.bad signature"] == 2)
    }

    /// memberlist #358: one forged suspect with a huge incarnation evicted a node forever.
    @Test func aSuspicionAboutAnIncarnationNeverAnnouncedIsRefused() {
        var membership = cluster.membership(0)
        _ = membership.deliver([cluster.alive(1, incarnation: 3), cluster.alive(2)], from: 1, cluster: cluster)
        _ = membership.deliver([cluster.suspect(1, incarnation: 1_000_000, by: 2), cluster.dead(1, incarnation: .max, by: 2)],
                               from: 2, cluster: cluster)
        #expect(membership.state(of: cluster.node(1)) == .alive)
        #expect(membership.counters["rejected.incarnation never announced"] == 2)
        // And the member can still be suspected normally, then refute.
        _ = membership.deliver([cluster.suspect(1, incarnation: 3, by: 2)], from: 2, cluster: cluster)
        #expect(membership.state(of: cluster.node(1)) == .suspect)
        _ = membership.deliver([cluster.alive(1, incarnation: 4)], from: 1, cluster: cluster)
        #expect(membership.state(of: cluster.node(1)) == .alive)
    }

    @Test func staleAndUnknownClaimsChangeNothing() {
        var membership = cluster.membership(0)
        _ = membership.deliver([cluster.suspect(1, by: 2)], from: 2, cluster: cluster)
        #expect(membership.counters["rejected.unknown subject"] == 1)
        _ = membership.deliver([cluster.alive(1, incarnation: 5)], from: 1, cluster: cluster)
        _ = membership.deliver([cluster.suspect(1, incarnation: 5, by: 3)], from: 3, cluster: cluster)
        #expect(membership.counters["rejected.unknown accuser"] == 1)
        _ = membership.deliver([cluster.alive(1, incarnation: 4), cluster.alive(1, incarnation: 5)], from: 1, cluster: cluster)
        #expect(membership.counters["claims.stale"] == 2)
        #expect(membership.members[cluster.node(1)]?.incarnation == 5)
    }

    @Test func aNodeRefutesSuspicionOfItselfAndRefusesForgedIncarnations() {
        var membership = cluster.membership(0, incarnation: 7)
        _ = membership.deliver([cluster.alive(1)], from: 1, cluster: cluster)
        let forged = SignedClaim.sign(.suspect(node: cluster.node(0), incarnation: 99, accuser: cluster.node(1)), with: cluster.key(1))
        _ = membership.deliver([forged], from: 1, cluster: cluster)
        #expect(membership.incarnation == 7)
        let real = SignedClaim.sign(.suspect(node: cluster.node(0), incarnation: 7, accuser: cluster.node(1)), with: cluster.key(1))
        let effects = membership.deliver([real], from: 1, cluster: cluster)
        #expect(membership.incarnation == 8)
        #expect(effects.contains(.incarnationChanged(8)))
        #expect(membership.localHealth == 1)
        let queued = membership.takeBroadcasts(budget: 1200).messages
        #expect(queued.contains(.claim(membership.selfAlive)))
    }

    @Test func aRestartedNodeAdoptsItsOwnOlderLife() {
        var membership = cluster.membership(0, incarnation: 1)
        // Others still hold our signed alive claim from before the restart, at incarnation 40.
        _ = membership.deliver([cluster.alive(0, incarnation: 40)], from: 1, cluster: cluster)
        #expect(membership.incarnation == 41)
    }

    @Test func deadMembersAreReapedAndOldClaimsCannotReviveThem() {
        var settings = MembershipSettings()
        settings.reapAfter = .seconds(30)
        var membership = cluster.membership(0, settings: settings)
        _ = membership.deliver([cluster.alive(1), cluster.alive(2)], from: 1, cluster: cluster)
        _ = membership.deliver([cluster.dead(1, by: 2)], from: 2, cluster: cluster, at: .zero)
        #expect(membership.state(of: cluster.node(1)) == .dead)
        #expect(membership.liveCount == 2)
        var random = DeterministicRandom(seed: 3)
        _ = membership.timerFired(.reap, now: Instant.zero + .seconds(31), random: &random)
        #expect(membership.members[cluster.node(1)] == nil)
        _ = membership.deliver([cluster.alive(1, incarnation: 1)], from: 2, cluster: cluster, at: Instant.zero + .seconds(32))
        #expect(membership.members[cluster.node(1)] == nil)
        // A real rejoin (higher incarnation) is welcome.
        _ = membership.deliver([cluster.alive(1, incarnation: 2)], from: 1, cluster: cluster, at: Instant.zero + .seconds(33))
        #expect(membership.state(of: cluster.node(1)) == .alive)
    }

    @Test func aRevocationDropsTheNodeEverywhereForGood() throws {
        var membership = cluster.membership(0)
        _ = membership.deliver([cluster.alive(1), cluster.alive(2)], from: 1, cluster: cluster)
        let revocation = try cluster.authority.revoke(cluster.node(1), now: TestCluster.startTime)
        var random = DeterministicRandom(seed: 1)
        _ = membership.receive([.revocation(revocation)], from: cluster.node(2), address: cluster.address(2), now: .zero, random: &random)
        #expect(membership.members[cluster.node(1)] == nil)
        _ = membership.deliver([cluster.alive(1, incarnation: 9)], from: 2, cluster: cluster)
        #expect(membership.members[cluster.node(1)] == nil)
        #expect(membership.counters["rejected.revoked subject"] == 1)
        // Datagrams from a revoked key are dropped whole.
        _ = membership.deliver([cluster.alive(3)], from: 1, cluster: cluster)
        #expect(membership.members[cluster.node(3)] == nil)
        #expect(membership.counters["dropped.revoked sender"] == 1)
        // A revocation not signed by the authority is refused.
        let fake = try Authority(signingKey: cluster.key(50)).revoke(cluster.node(2), now: 1)
        _ = membership.receive([.revocation(fake)], from: cluster.node(2), address: cluster.address(2), now: .zero, random: &random)
        #expect(membership.state(of: cluster.node(2)) == .alive)
    }

    @Test func leaveIsSignedByTheLeaverOnly() {
        var membership = cluster.membership(0)
        _ = membership.deliver([cluster.alive(1), cluster.alive(2)], from: 1, cluster: cluster)
        let forged = SignedClaim(claim: .leave(node: cluster.node(1), incarnation: 1),
                                 signature: cluster.key(2).sign(SignedClaim.bytesToSign(.leave(node: cluster.node(1), incarnation: 1))))
        _ = membership.deliver([forged], from: 2, cluster: cluster)
        #expect(membership.state(of: cluster.node(1)) == .alive)
        _ = membership.deliver([SignedClaim.sign(.leave(node: cluster.node(1), incarnation: 1), with: cluster.key(1))], from: 1, cluster: cluster)
        #expect(membership.state(of: cluster.node(1)) == .left)
    }
}
