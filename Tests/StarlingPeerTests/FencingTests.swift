import StarlingMembership
import StarlingPeer
import StarlingTasks
import Testing

/// Fencing: a coordinator cut off from the others goes on under its old epoch while they elect a
/// successor; once the cut heals, its commits past the successor's base reach everyone and count
/// for nothing.
@Suite struct FencingTests {
    @Test func commitsOfTheOldEpochPastTheNewLeasesBaseAreStale() throws {
        // Membership reconnects the two sides on its anti-entropy timer: keep that short.
        var settings = MembershipSettings()
        settings.antiEntropyInterval = .seconds(5)
        var cluster = PeerCluster(count: 3, membership: settings)
        cluster.advance(by: .seconds(1))
        // One update is enough for a round, so the cut-off coordinator can go on alone.
        cluster.driver.withhold = { _, work in (work.round ?? 0) > 2 }
        let submitted = cluster.submit(TestSpec.federated(minNodeNumber: 1, rounds: 6), at: 0)
        let id = try #require(submitted)
        let committedTwo = cluster.advance(until: { cluster in
            (0..<3).allSatisfy { cluster.view(id, at: $0)?.lastCommitted?.round == 2 }
        }, within: .seconds(20))
        try #require(committedTwo)
        let old = try #require(cluster.holder(of: id, at: 0))
        let base = try #require(cluster.view(id, at: 0)?.lastCommitted?.ref)
        let others = (0..<3).filter { $0 != old }

        cluster.isolated = [old]
        cluster.driver.withhold = { _, _ in false }
        cluster.answerWithheld { peer, _ in peer == old }
        let split = cluster.advance(until: { cluster in
            others.allSatisfy { cluster.view(id, at: $0)?.currentLease?.epoch == 2 }
                && cluster.state(id, at: old)!.commits.contains { $0.commit.epoch == 1 && $0.commit.round > base.round }
        }, within: .seconds(60))
        try #require(split)
        let newLease = try #require(cluster.view(id, at: others[0])?.currentLease)
        #expect(newLease.base == base)
        // Nothing of the old epoch past the base has reached the new side yet.
        for peer in others {
            #expect(!cluster.state(id, at: peer)!.commits.contains { $0.commit.epoch == 1 && $0.commit.round > base.round })
        }

        cluster.isolated = []
        let healed = cluster.advance(until: { cluster in
            others.allSatisfy { peer in
                cluster.state(id, at: peer)!.commits.contains { $0.commit.epoch == 1 && $0.commit.round > base.round }
            }
        }, within: .seconds(60))
        try #require(healed)
        cluster.advance(by: .seconds(5))
        for peer in 0..<3 {
            let state = try #require(cluster.state(id, at: peer))
            let view = state.view
            let late = state.commits.filter { $0.commit.epoch == 1 && $0.commit.round > base.round }
            #expect(!late.isEmpty)
            for (entry, commit) in late {
                #expect(view.status(of: entry.hash) == .stale, "peer \(peer): round \(commit.round) of epoch 1 is \(String(describing: view.status(of: entry.hash)))")
            }
            // The line keeps the old epoch's rounds up to the base and the new epoch's after it.
            #expect(view.currentLease?.epoch == 2)
            #expect(view.committedRounds.filter { $0.epoch == 1 }.map(\.round) == Array(1...base.round))
            #expect(view.committedRounds.dropFirst(Int(base.round)).allSatisfy { $0.epoch == 2 })
        }
    }
}
