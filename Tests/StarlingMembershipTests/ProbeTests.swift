import StarlingCrypto
@testable import StarlingMembership
import StarlingTrust
import Testing

/// Probing, indirect probes, suspicion timing and leave: handler in, effects out.
@Suite struct ProbeTests {
    let cluster = TestCluster()

    func started(_ count: Int) -> (Membership, DeterministicRandom) {
        var membership = cluster.membership(0)
        var random = DeterministicRandom(seed: 42)
        _ = membership.start(now: .zero, random: &random)
        _ = membership.deliver((1..<count).map { cluster.alive($0) }, from: 1, cluster: cluster)
        return (membership, random)
    }

    func ping(in effects: [MembershipEffect]) -> (target: NodeID, sequence: UInt32)? {
        for send in effects.sends {
            for case let .ping(sequence, target) in send.messages { return (target, sequence) }
        }
        return nil
    }

    @Test func anAckedProbeRaisesNoSuspicion() {
        var (membership, random) = started(2)
        let effects = membership.timerFired(.probe, now: Instant.zero + .seconds(1), random: &random)
        let (target, sequence) = try! #require(ping(in: effects))
        #expect(target == cluster.node(1))
        #expect(effects.timer(.probeTimeout(sequence)) == Instant.zero + .milliseconds(1500))
        _ = membership.receive([.ack(sequence: sequence)], from: target, address: cluster.address(1),
                               now: Instant.zero + .milliseconds(1100), random: &random)
        _ = membership.timerFired(.probe, now: Instant.zero + .seconds(2), random: &random)
        #expect(membership.state(of: target) == .alive)
        #expect(membership.counters["probes.acked"] == 1)
    }

    @Test func aSilentTargetIsProbedIndirectlyThenSuspectedThenDeclaredDead() throws {
        var (membership, random) = started(6)
        var now = Instant.zero + .seconds(1)
        let first = membership.timerFired(.probe, now: now, random: &random)
        let (target, sequence) = try #require(ping(in: first))
        now = now + .milliseconds(500)
        let indirect = membership.timerFired(.probeTimeout(sequence), now: now, random: &random)
        let requests = indirect.sends.filter { $0.messages.contains(where: { if case .pingRequest = $0 { true } else { false } }) }
        #expect(requests.count == 3)
        #expect(!requests.contains(where: { $0.to == target }))
        now = now + .milliseconds(500)
        _ = membership.timerFired(.probe, now: now, random: &random)
        #expect(membership.state(of: target) == .alive, "the stream probe is still out")
        // The stream probe is refused: now the verdict.
        let failed = membership.streamProbeFailed(sequence: sequence, now: now)
        #expect(membership.state(of: target) == .suspect)
        #expect(membership.localHealth == 3, "three helpers, no nacks: our own link looks bad")
        let deadline = try #require(failed.timer(.suspicion(target)))
        let bounds = Suspicion.bounds(clusterSize: 6, settings: membership.settings)
        #expect(deadline == now + bounds.maximum)

        _ = membership.timerFired(.suspicion(target), now: deadline, random: &random)
        #expect(membership.state(of: target) == .dead)
        #expect(membership.liveCount == 5)
    }

    @Test func aTimedOutProbeAlsoGoesOverAStreamAndItsAckPreventsTheSuspicion() throws {
        var (membership, random) = started(6)
        var now = Instant.zero + .seconds(1)
        let (target, sequence) = try #require(ping(in: membership.timerFired(.probe, now: now, random: &random)))
        now = now + .milliseconds(500)
        let indirect = membership.timerFired(.probeTimeout(sequence), now: now, random: &random)
        let streamProbes = indirect.compactMap { effect -> (NodeID, [MembershipMessage], Duration)? in
            if case let .streamProbe(node, _, messages, timeout) = effect { return (node, messages, timeout) }
            return nil
        }
        #expect(streamProbes.count == 1)
        let (node, messages, timeout) = try #require(streamProbes.first)
        #expect(node == target)
        #expect(messages == [.ping(sequence: sequence, target: target)])
        #expect(timeout == membership.settings.streamProbeTimeout)
        // The member's sealed ack comes back over the stream before the period ends.
        _ = membership.receive([.ack(sequence: sequence)], from: target, address: cluster.address(1),
                               now: now + .milliseconds(300), random: &random)
        _ = membership.timerFired(.probe, now: now + .milliseconds(500), random: &random)
        #expect(membership.state(of: target) == .alive)
    }

    @Test func theVerdictWaitsForAnOutstandingStreamProbe() throws {
        var (membership, random) = started(6)
        var now = Instant.zero + .seconds(1)
        let (target, sequence) = try #require(ping(in: membership.timerFired(.probe, now: now, random: &random)))
        now = now + .milliseconds(500)
        _ = membership.timerFired(.probeTimeout(sequence), now: now, random: &random)
        now = now + .milliseconds(500)
        _ = membership.timerFired(.probe, now: now, random: &random)
        #expect(membership.state(of: target) == .alive, "no verdict while the stream probe is out")
        // A late ack over the stream settles it; a failure instead raises the suspicion then.
        var other = membership
        _ = other.receive([.ack(sequence: sequence)], from: target, address: cluster.address(1),
                          now: now + .milliseconds(800), random: &random)
        #expect(other.state(of: target) == .alive)
        #expect(other.counters["probes.acked late over a stream"] == 1)
        _ = membership.streamProbeFailed(sequence: sequence, now: now + .seconds(1))
        #expect(membership.state(of: target) == .suspect)
    }

    @Test func withoutTheStreamFallbackNoStreamProbeIsAsked() throws {
        var settings = MembershipSettings()
        settings.streamProbeFallback = false
        var membership = cluster.membership(0, settings: settings)
        var random = DeterministicRandom(seed: 42)
        _ = membership.start(now: .zero, random: &random)
        _ = membership.deliver((1..<4).map { cluster.alive($0) }, from: 1, cluster: cluster)
        let (_, sequence) = try #require(ping(in: membership.timerFired(.probe, now: .zero + .seconds(1), random: &random)))
        let indirect = membership.timerFired(.probeTimeout(sequence), now: .zero + .milliseconds(1500), random: &random)
        #expect(!indirect.contains { if case .streamProbe = $0 { true } else { false } })
    }

    @Test func confirmationsFromOtherAccusersShortenTheSuspicion() throws {
        var settings = MembershipSettings()
        settings.suspicionMultiplier = 5
        var membership = cluster.membership(0, settings: settings)
        _ = membership.deliver((1...6).map { cluster.alive($0) }, from: 1, cluster: cluster)
        let first = membership.deliver([cluster.suspect(1, by: 2)], from: 2, cluster: cluster)
        let initial = try #require(first.timer(.suspicion(cluster.node(1))))
        let second = membership.deliver([cluster.suspect(1, by: 3)], from: 3, cluster: cluster)
        let confirmed = try #require(second.timer(.suspicion(cluster.node(1))))
        #expect(confirmed < initial)
        // The same accuser again is not a new confirmation.
        #expect(membership.deliver([cluster.suspect(1, by: 3)], from: 3, cluster: cluster).timer(.suspicion(cluster.node(1))) == nil)
        _ = membership.deliver([cluster.suspect(1, by: 4), cluster.suspect(1, by: 5)], from: 4, cluster: cluster)
        let bounds = Suspicion.bounds(clusterSize: 7, settings: settings)
        let suspicion = try #require(membership.suspicions[cluster.node(1)])
        #expect(suspicion.deadline == Instant.zero + bounds.minimum)
    }

    @Test func helpersForwardAcksAndSendNacks() throws {
        var (membership, random) = started(3)
        // Node 1 asks us to probe node 2.
        let effects = membership.receive([.pingRequest(sequence: 77, target: cluster.node(2), address: cluster.address(2))],
                                         from: cluster.node(1), address: cluster.address(1), now: .zero, random: &random)
        let (target, ownSequence) = try #require(ping(in: effects))
        #expect(target == cluster.node(2))
        let forwarded = membership.receive([.ack(sequence: ownSequence)], from: cluster.node(2), address: cluster.address(2),
                                           now: Instant.zero + .milliseconds(10), random: &random)
        #expect(forwarded.sends.first?.to == cluster.node(1))
        #expect(forwarded.sends.first?.messages == [.ack(sequence: 77)])
        // Another request that gets no ack is answered with a nack.
        let second = membership.receive([.pingRequest(sequence: 78, target: cluster.node(2), address: cluster.address(2))],
                                        from: cluster.node(1), address: cluster.address(1), now: .zero, random: &random)
        let (_, secondSequence) = try #require(ping(in: second))
        let nack = membership.timerFired(.forwardedProbe(secondSequence), now: Instant.zero + .milliseconds(400), random: &random)
        #expect(nack.sends.first?.messages == [.nack(sequence: 78)])
    }

    @Test func pingsForAnotherNodeAreNotAcked() {
        var (membership, random) = started(2)
        let effects = membership.receive([.ping(sequence: 1, target: cluster.node(5))], from: cluster.node(1),
                                         address: cluster.address(1), now: .zero, random: &random)
        #expect(effects.sends.isEmpty)
        #expect(membership.counters["dropped.ping for another node"] == 1)
    }

    @Test func probingASuspectCarriesTheSuspicion() throws {
        var (membership, random) = started(2)
        _ = membership.deliver([cluster.alive(2), cluster.suspect(1, by: 2)], from: 2, cluster: cluster)
        var effects: [MembershipEffect] = []
        for second in 1...3 {
            effects = membership.timerFired(.probe, now: Instant.zero + .seconds(second), random: &random)
            if ping(in: effects)?.target == cluster.node(1) { break }
        }
        let send = try #require(effects.sends.first { $0.to == cluster.node(1) })
        #expect(send.messages.contains(.claim(cluster.suspect(1, by: 2))))
    }

    @Test func leaveAnnouncesThenCompletes() throws {
        var (membership, random) = started(4)
        let effects = membership.leave(now: .zero, random: &random)
        #expect(effects.sends.count == 3)
        let done = try #require(effects.timer(.leaveDone))
        #expect(membership.timerFired(.leaveDone, now: done, random: &random) == [.leaveComplete])
        #expect(membership.view.first?.state == .left)
    }

    @Test func gossipGoesOutOnlyWhenThereIsNews() {
        var (membership, random) = started(4)
        var sends = 0
        for step in 1...200 {
            let effects = membership.timerFired(.gossip, now: Instant.zero + .milliseconds(200 * step), random: &random)
            for case let .send(to, _, _, _) in effects {
                sends += 1
                _ = to
            }
            // Drain what the host would piggyback on each send.
            for _ in effects.sends { _ = membership.takeBroadcasts(budget: 1100) }
        }
        #expect(sends > 0)
        #expect(!membership.hasBroadcasts, "every update is sent a bounded number of times")
        let quiet = membership.timerFired(.gossip, now: Instant.zero + .seconds(100), random: &random)
        #expect(quiet.sends.isEmpty)
    }

    @Test func anAccusedNodeAnswersAProbeWithItsCurrentClaim() {
        var (membership, random) = started(3)
        let accusation = SignedClaim.sign(.suspect(node: cluster.node(0), incarnation: 1, accuser: cluster.node(1)), with: cluster.key(1))
        let effects = membership.receive([.ping(sequence: 9, target: cluster.node(0)), .claim(accusation)],
                                         from: cluster.node(1), address: cluster.address(1), now: .zero, random: &random)
        #expect(membership.incarnation == 2)
        let ack = effects.sends.first { $0.messages.contains(.ack(sequence: 9)) }
        #expect(ack?.messages.contains(.claim(membership.selfAlive)) == true)
    }

    @Test func anAccusationAboutAnOlderLifeIsAnsweredByGossip() {
        var (membership, random) = started(3)
        _ = membership.deliver([SignedClaim.sign(.suspect(node: cluster.node(0), incarnation: 1, accuser: cluster.node(1)), with: cluster.key(1))],
                               from: 1, cluster: cluster)
        #expect(membership.incarnation == 2)
        // Drain the queue, then an old accusation (incarnation 1) arrives from someone who missed the refutation.
        while membership.hasBroadcasts { _ = membership.takeBroadcasts(budget: 100_000) }
        _ = membership.deliver([SignedClaim.sign(.dead(node: cluster.node(0), incarnation: 1, accuser: cluster.node(2)), with: cluster.key(2))],
                               from: 2, cluster: cluster)
        #expect(membership.incarnation == 2)
        #expect(membership.takeBroadcasts(budget: 100_000).messages.contains(.claim(membership.selfAlive)))
        _ = random
    }

    @Test func antiEntropySlowsDownWithClusterSize() {
        var membership = cluster.membership(0)
        #expect(membership.antiEntropyPeriod == .seconds(30))
        membership.liveCount = 1_024
        #expect(membership.antiEntropyPeriod == .seconds(30))
        membership.liveCount = 1_025
        #expect(membership.antiEntropyPeriod == .seconds(60))
        membership.liveCount = 10_000
        #expect(membership.antiEntropyPeriod == .seconds(150), "as memberlist: × (ceil(log2(N / base)) + 1)")
    }

    @Test func linkQualityFollowsProbeOutcomes() throws {
        var (membership, random) = started(6)
        var now = Instant.zero + .seconds(1)
        let (target, sequence) = try #require(ping(in: membership.timerFired(.probe, now: now, random: &random)))
        #expect(membership.linkQuality(of: target) == 1, "not probed yet")
        now = now + .milliseconds(500)
        _ = membership.timerFired(.probeTimeout(sequence), now: now, random: &random)
        now = now + .milliseconds(500)
        _ = membership.timerFired(.probe, now: now, random: &random)
        _ = membership.streamProbeFailed(sequence: sequence, now: now)
        #expect(membership.linkQuality(of: target) == 0.75, "one failed probe: 1 + 0.25 × (0 − 1)")
        #expect(membership.linkQuality(of: membership.me) == 1 / Double(membership.localHealth + 1))
        let other = try #require(cluster.node(1) == target ? cluster.node(2) : cluster.node(1))
        #expect(membership.linkQuality(of: other) == 1)
    }
}
