import StarlingCrypto
import StarlingPeer
import StarlingTasks
import Testing

/// A round from announce to commit, and never a commit short of `min_node_number` updates.
@Suite struct RoundTests {
    @Test func aRoundGoesFromAnnounceThroughTrainingCollectAndAggregateToCommit() throws {
        var cluster = PeerCluster(count: 3)
        cluster.advance(by: .seconds(1))
        let submitted = cluster.submit(TestSpec.federated(minNodeNumber: 2, rounds: 2), at: 0)
        let id = try #require(submitted)
        let completed = cluster.advance(until: { cluster in
            (0..<3).allSatisfy { cluster.view(id, at: $0)?.phase == .completed }
        }, within: .seconds(30))
        try #require(completed)
        let coordinator = try #require(cluster.holder(of: id, at: 0))
        let state = try #require(cluster.state(id, at: coordinator))
        let seen = cluster.entrySeen[coordinator]

        var base = ModelHash.none
        for round: UInt64 in 1...2 {
            // 1. The announcement: every worker placed, on three different peers, from the last model.
            let announced = state.announcements.filter { $0.announcement.round == round }
            try #require(announced.count == 1, "round \(round) was announced \(announced.count) times")
            let (announceEntry, announcement) = announced[0]
            #expect(announceEntry.author == cluster.nodes[coordinator] && announcement.epoch == 1)
            #expect(announcement.baseModel == base)
            #expect(announcement.participants.map(\.worker) == ["w0", "w1", "w2"])
            #expect(Set(announcement.participants.map(\.node)).count == 3)

            // 2. Each participant's peer is ordered to train its worker, once, after it got the announcement.
            let trains = cluster.orders(for: id).filter { $0.work.round == round && $0.work.isTrain }
            var trainedAt: [String: Int] = [:]
            for participant in announcement.participants {
                let peer = try #require(cluster.index(of: participant.node))
                let mine = trains.filter {
                    if case let .federated(.train(order)) = $0.work { return $0.peer == peer && order.worker == participant.worker }
                    return false
                }
                try #require(mine.count == 1, "\(participant.worker) was ordered to train \(mine.count) times in round \(round)")
                guard case let .federated(.train(order)) = mine[0].work else { continue }
                #expect(order.epoch == 1 && order.baseModel == base)
                #expect(order.sources.first?.node == cluster.nodes[coordinator], "the base model is fetched from the coordinator first")
                #expect(mine[0].sequence > (cluster.entrySeen[peer][announceEntry.hash] ?? .max))
                trainedAt[participant.worker] = mine[0].sequence
            }
            #expect(trains.count == 3)

            // 3. Each trained worker's report reaches the coordinator, naming the driver's update.
            let reports = state.reports.filter { $0.report.round == round && $0.report.state == .submitted }
            #expect(Set(reports.map(\.report.worker)) == ["w0", "w1", "w2"])
            for (entry, report) in reports {
                #expect(report.update == FakeDriver.update(task: id, worker: report.worker, epoch: 1, round: round))
                #expect((seen[entry.hash] ?? .max) > (trainedAt[report.worker] ?? .max))
            }

            // 4. The coordinator collects each reported update after its report arrived...
            let collects = cluster.orders(for: id, at: coordinator).filter { $0.work.round == round && $0.work.isCollect }
            for collect in collects {
                guard case let .federated(.collect(order)) = collect.work else { continue }
                let report = try #require(reports.first { $0.report.worker == order.worker })
                #expect(order.update == report.report.update && order.baseModel == base)
                #expect(collect.sequence > (seen[report.entry.hash] ?? .max))
            }
            // 5. ... and orders one aggregation once min_node_number of them are in.
            let aggregates = cluster.orders(for: id, at: coordinator).filter { $0.work.round == round && $0.work.isAggregate }
            try #require(aggregates.count == 1)
            let collectedBefore = collects.filter { $0.sequence < aggregates[0].sequence }
            #expect(collectedBefore.count >= 2)

            // 6. The commit names the aggregated model and only updates that were collected.
            let commit = try #require(state.view.federated?.rounds.first { $0.round == round })
            let collectedWorkers = Set(collectedBefore.compactMap { if case let .federated(.collect(order)) = $0.work { return order.worker } else { return nil } })
            #expect(commit.commit.participants.count >= 2)
            #expect(Set(commit.commit.participants).isSubset(of: collectedWorkers))
            #expect(commit.modelHash == FakeDriver.model(task: id, epoch: 1, round: round, participants: commit.commit.participants))
            #expect(commit.commit.sampleCount == FakeDriver.samples * UInt64(commit.commit.participants.count))
            #expect((seen[commit.entry] ?? .max) > aggregates[0].sequence)
            base = commit.modelHash
        }
        // Every peer ends with the same entries.
        #expect(Set((0..<3).map { cluster.state(id, at: $0)!.digest }).count == 1)
    }

    @Test func aRoundShortOfMinNodeNumberUpdatesIsNotAggregated() throws {
        var cluster = PeerCluster(count: 3)
        cluster.advance(by: .seconds(1))
        // Worker w2 does not finish its training.
        cluster.driver.withhold = { _, work in
            if case let .federated(.train(order)) = work { return order.worker == "w2" }
            return false
        }
        let submitted = cluster.submit(TestSpec.federated(minNodeNumber: 3, rounds: 1, roundTimeout: .seconds(60)), at: 0)
        let id = try #require(submitted)
        cluster.advance(by: .seconds(30))
        let coordinator = try #require(cluster.holder(of: id, at: 0))
        let collects = cluster.orders(for: id, at: coordinator).filter { $0.work.isCollect }
        #expect(collects.count == 2)
        #expect(!cluster.orders(for: id).contains { $0.work.isAggregate }, "aggregated with 2 of 3 updates")
        #expect(cluster.state(id, at: coordinator)?.commits.isEmpty == true)

        // The third update comes in: the round is aggregated and committed with all three.
        cluster.answerWithheld { _, _ in true }
        cluster.advance(by: .seconds(2))
        let commit = try #require(cluster.view(id, at: coordinator)?.federated?.lastCommitted)
        #expect(commit.commit.participants == ["w0", "w1", "w2"])
    }

    @Test func anAggregationHoldingFewerThanMinNodeNumberUpdatesIsNotCommitted() throws {
        var cluster = PeerCluster(count: 3)
        cluster.advance(by: .seconds(1))
        cluster.driver.withhold = { _, work in work.isAggregate }
        let submitted = cluster.submit(TestSpec.federated(minNodeNumber: 2, rounds: 1), at: 0)
        let id = try #require(submitted)
        cluster.advance(by: .seconds(5))
        let coordinator = try #require(cluster.holder(of: id, at: 0))
        let orders = cluster.driver.takeWithheld { _, work in work.isAggregate }
        try #require(orders.count == 1)
        guard case let .federated(.aggregate(order)) = orders[0].work else { return }

        // A driver that folded fewer updates than the machine counted answers with one participant.
        let short = AggregatedRound(model: FakeDriver.model(task: id, epoch: order.epoch, round: order.round, participants: ["w0"]),
                                    participants: ["w0"], sampleCount: FakeDriver.samples, metrics: [:])
        cluster.deliver(.federated(.aggregated(task: id, epoch: order.epoch, round: order.round, short)), to: coordinator)
        cluster.advance(by: .seconds(5))
        for peer in 0..<3 {
            #expect(cluster.state(id, at: peer)?.commits.isEmpty == true, "peer \(peer) holds a commit of one update")
        }
        #expect(cluster.logs.contains { $0.peer == coordinator && $0.level == .error && $0.text.contains("min_node_number") })
        // The round's updates are collected again into a fresh aggregation, ordered again.
        #expect(cluster.driver.withheld.contains { $0.peer == coordinator && $0.work.isAggregate })
    }
}
