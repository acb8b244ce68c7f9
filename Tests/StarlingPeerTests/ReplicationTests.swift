import StarlingPeer
import StarlingTasks
import StarlingWire
import Testing

/// Replication before commit: the coordinator spreads a commit only once the next candidates
/// answered that they hold it (`replicated`).
@Suite struct ReplicationTests {
    @Test func aCommitWaitsForTheNextCandidatesToReplicateIt() throws {
        var cluster = PeerCluster(count: 3)
        cluster.advance(by: .seconds(1))
        cluster.holdRequests = [.taskReplicateRequest]
        let submitted = cluster.submit(TestSpec.federated(minNodeNumber: 3, rounds: 2), at: 0)
        let id = try #require(submitted)
        // Round 1 is aggregated, and its commit pushed to both other candidates, where it is held.
        // (Within `replicateTimeout`, after which a commit is spread anyway.)
        cluster.advance(by: .seconds(10))
        let holder = try #require(cluster.holder(of: id, at: 0))
        #expect(cluster.orders(for: id, at: holder).filter { $0.work.isAggregate }.count == 1)
        #expect(cluster.heldRequestCount == 2)
        for peer in 0..<3 {
            let state = try #require(cluster.state(id, at: peer))
            #expect(state.commits.isEmpty, "peer \(peer) holds a commit no candidate replicated")
            #expect(cluster.summary(id, at: peer)?.round == 0)
        }

        cluster.releaseHeldRequests()
        cluster.advance(by: .seconds(2))
        let view = try #require(cluster.view(id, at: holder))
        let commit = try #require(view.committedRounds.first)
        #expect(commit.round == 1 && commit.coordinator == cluster.nodes[holder])
        let candidates = (0..<3).filter { $0 != holder }.map { cluster.nodes[$0] }.sorted()
        #expect(view.replicatedBy[commit.ref] == candidates)
        // The commit entered the coordinator's state after both candidates' `replicated` did.
        let state = try #require(cluster.state(id, at: holder))
        let acks = state.replications(of: commit.ref)
        let committedAt = try #require(cluster.entrySeen[holder][commit.entry])
        #expect(acks.count == 2)
        #expect(acks.allSatisfy { (cluster.entrySeen[holder][$0.hash] ?? .max) < committedAt })
        // And the candidates hold the commit's model: each was ordered to fetch it from the coordinator.
        for peer in (0..<3) where peer != holder {
            let holds = cluster.orders(for: id, at: peer).contains {
                if case let .holdModel(_, round, model, sources) = $0.work {
                    return round == 1 && model == commit.modelHash && sources.first?.node == cluster.nodes[holder]
                }
                return false
            }
            #expect(holds, "peer \(peer) was never asked to hold round 1's model")
        }
    }

    @Test func aCommitNoCandidateReplicatesIsSpreadAfterReplicateTimeout() throws {
        var cluster = PeerCluster(count: 3)
        cluster.advance(by: .seconds(1))
        cluster.holdRequests = [.taskReplicateRequest]
        let submitted = cluster.submit(TestSpec.federated(minNodeNumber: 3, rounds: 1), at: 0)
        let id = try #require(submitted)
        let aggregated = cluster.advance(until: { cluster in
            cluster.orders(for: id).contains { $0.work.isAggregate }
        }, within: .seconds(5))
        try #require(aggregated)
        let holder = try #require(cluster.holder(of: id, at: 0))

        // The candidates never answer: the commit waits `replicateTimeout`, then is spread anyway,
        // so a round is not lost to candidates that cannot fetch its model.
        let timeout = TaskSettings().replicateTimeout
        cluster.advance(by: timeout - .seconds(1))
        #expect(cluster.state(id, at: holder)?.commits.isEmpty == true)
        cluster.advance(by: .seconds(3))
        let commit = try #require(cluster.view(id, at: holder)?.lastCommitted)
        #expect(commit.round == 1)
        #expect(cluster.state(id, at: holder)?.replications(of: commit.ref).isEmpty == true)
    }
}
