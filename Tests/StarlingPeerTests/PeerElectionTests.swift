import StarlingMembership
import StarlingPeer
import StarlingTasks
import Testing

/// Election and lease takeover, through `Peer`'s inputs and effects only.
@Suite struct PeerElectionTests {
    @Test func aSubmittedTaskGetsExactlyOneLeaseByTheBestRankedCandidate() throws {
        var cluster = PeerCluster(count: 3)
        cluster.advance(by: .seconds(1))
        // No round runs: only the election is looked at.
        cluster.driver.withhold = { _, _ in true }
        // The submitter holds the task first but ranks last: it must still wait for the best.
        let spec = cluster.spec(TestSpec.federated(minNodeNumber: 2), submittedBy: 0, ranked: 2)
        let submitted = cluster.submit(spec, at: 0)
        let id = try #require(submitted)
        let best = try #require(cluster.ranking(of: id).first)
        #expect(best != 0)

        // Long enough for every rank's backoff and for several renewals of the lease.
        cluster.advance(by: .seconds(30))
        for peer in 0..<3 {
            let state = try #require(cluster.state(id, at: peer), "peer \(peer) never heard of the task")
            let leases = Set(state.leases.map { [$0.epoch, UInt64(cluster.index(of: $0.holder)!)] })
            #expect(leases == [[1, UInt64(best)]], "peer \(peer) holds leases \(leases)")
            let summary = try #require(cluster.summary(id, at: peer))
            #expect(summary.coordinator == cluster.nodes[best] && summary.epoch == 1 && summary.leaseValid)
            #expect(summary.phase == "running")
        }
        let claims = cluster.peers.map { $0.counters["tasks.leases claimed"] ?? 0 }
        #expect(claims == (0..<3).map { $0 == best ? 1 : 0 })
    }

    @Test func anotherPeerTakesOverFromTheLastCommitWhenTheHolderDies() throws {
        // A lease far longer than membership takes to declare the holder dead: the takeover must
        // come from that verdict (after its grace), not from the lease running out.
        var settings = TaskSettings()
        settings.leaseSeconds = 120
        var cluster = PeerCluster(count: 3, taskSettings: settings)
        cluster.advance(by: .seconds(1))
        // Rounds 1 and 2 run; round 3's work waits, so the holder dies in the middle of the task.
        cluster.driver.withhold = { _, work in (work.round ?? 0) > 2 }
        let submitted = cluster.submit(TestSpec.federated(minNodeNumber: 2, rounds: 5), at: 0)
        let id = try #require(submitted)
        let committedTwo = cluster.advance(until: { cluster in
            (0..<3).allSatisfy { cluster.view(id, at: $0)?.lastCommitted?.round == 2 }
        }, within: .seconds(20))
        try #require(committedTwo)
        let holder = try #require(cluster.holder(of: id, at: 0))
        let oldLease = try #require(cluster.view(id, at: 0)?.currentLease)
        let lastCommit = try #require(cluster.view(id, at: 0)?.lastCommitted?.ref)
        #expect(oldLease.epoch == 1)

        cluster.crash(holder)
        cluster.driver.withhold = { _, _ in false }
        let survivors = (0..<3).filter { $0 != holder }
        let successor = try #require(cluster.ranking(of: id, among: survivors).first)
        let tookOver = cluster.advance(until: { cluster in
            survivors.contains { cluster.view(id, at: $0)?.currentLease?.epoch == 2 }
        }, within: .seconds(60))
        try #require(tookOver)
        #expect(cluster.unixNow < oldLease.expiresAt)
        // Only once membership declared the holder dead, and `deadHolderGrace` after that.
        let dead = try #require(cluster.lastChange(of: holder, to: .dead, at: successor), "the holder was never declared dead")
        #expect(cluster.now >= dead + settings.deadHolderGrace,
                "took over at \(cluster.now), declared dead at \(dead)")

        cluster.advance(by: .seconds(5))
        for peer in survivors {
            let state = try #require(cluster.state(id, at: peer))
            let newLeases = state.leases.filter { $0.epoch == 2 }
            #expect(newLeases.count == 1, "peer \(peer) holds \(newLeases.count) leases of epoch 2")
            #expect(newLeases.first?.holder == cluster.nodes[successor])
            #expect(newLeases.first?.base == lastCommit)
        }
        // The rounds go on from the last commit, under the new epoch, to the end.
        let completed = cluster.advance(until: { cluster in
            survivors.allSatisfy { cluster.view(id, at: $0)?.phase == .completed }
        }, within: .seconds(30))
        try #require(completed)
        let line = try #require(cluster.view(id, at: successor)?.committedRounds)
        #expect(line.map(\.round) == [1, 2, 3, 4, 5])
        #expect(line.map(\.epoch) == [1, 1, 2, 2, 2])
        #expect(line.dropFirst(2).allSatisfy { $0.coordinator == cluster.nodes[successor] })
    }
}
