import StarlingPeer
import StarlingTasks
import Testing

/// Cancel: a submitter's cancel stops the rounds everywhere and releases the drivers' work.
@Suite struct CancelTests {
    @Test func aCancelStopsTheRoundsAndReleasesTheWork() throws {
        // Peer 2 may not submit, so it may not cancel either.
        var cluster = PeerCluster(count: 3, roles: { $0 == 2 ? [.peer, .coordinator] : PeerCluster.roles })
        cluster.advance(by: .seconds(1))
        // Round 1 commits; round 2's training is under way (withheld) when the cancel comes.
        cluster.driver.withhold = { _, work in work.isTrain && (work.round ?? 0) >= 2 }
        let submitted = cluster.submit(TestSpec.federated(minNodeNumber: 2, rounds: 5), at: 0)
        let id = try #require(submitted)
        let training = cluster.advance(until: { cluster in
            cluster.driver.withheld.filter { $0.work.round == 2 }.count == 3
        }, within: .seconds(20))
        try #require(training)

        let refused = cluster.control(.cancelTask(id.text, reason: "not mine to cancel"), at: 2)
        #expect(!refused.ok && refused.message.contains("submit role"), "\(refused.message)")
        cluster.advance(by: .seconds(5))
        #expect((0..<3).allSatisfy { cluster.view(id, at: $0)?.phase == .running })

        let answer = cluster.control(.cancelTask(id.text, reason: "wrong dataset"), at: 0)
        #expect(answer.ok, "\(answer.message)")
        let cancelledAt = cluster.orders.last?.sequence ?? 0
        cluster.advance(by: .seconds(5))
        for peer in 0..<3 {
            let view = try #require(cluster.view(id, at: peer))
            #expect(view.phase == .cancelled && view.cancelReason == "wrong dataset", "peer \(peer): \(view.phase)")
            let releases = cluster.orders(for: id, at: peer).filter { $0.work.isRelease }
            #expect(releases.count == 1, "peer \(peer) got \(releases.count) release orders")
            #expect(releases.allSatisfy { $0.sequence > cancelledAt })
        }

        // The trainings under way finish after the cancel: nothing follows from them.
        let entries = (0..<3).map { cluster.state(id, at: $0)!.count }
        cluster.answerWithheld { _, _ in true }
        cluster.advance(by: .seconds(30))
        let after = cluster.orders(for: id).filter { $0.sequence > cancelledAt }
        #expect(after.allSatisfy { $0.work.isRelease }, "orders after the cancel: \(after.map(\.work))")
        #expect((0..<3).map { cluster.state(id, at: $0)!.count } == entries, "entries were added after the cancel")
        #expect((0..<3).allSatisfy { cluster.view(id, at: $0)?.lastCommitted?.round == 1 })
    }
}
