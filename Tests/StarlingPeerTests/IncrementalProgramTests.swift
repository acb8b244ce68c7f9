import StarlingCrypto
import StarlingMembership
import StarlingPeer
import StarlingTasks
import StarlingTrust
import Testing

/// The IncrementalLearningJob program through `Peer`'s inputs and effects: peers 0 and 1 have the
/// coordinator tags (the cloud), 2 and 3 are edges. Peer 2 imported the initial model and holds
/// the dataset `incoming`; data arrives by its tag growing, as `starling dataset append` makes it.
@Suite struct IncrementalProgramTests {
    static let initialModel = ContentHash.of(Array("the initial model".utf8))

    static func tags(datasets: [Int: UInt64], model: Int = 2) -> (Int) -> [String: String] {
        { peer in
            var tags: [String: String] = [0, 1].contains(peer) ? [TestSpec.cloudTag.key: TestSpec.cloudTag.value] : [:]
            if peer == model { tags[ModelTags.tag(for: "initial")] = ModelTags.value(for: initialModel) }
            if let samples = datasets[peer] {
                tags[DatasetTags.key("incoming")] = DatasetTags.value(.init(name: "incoming", format: "csv", bytes: samples * 100, samples: samples))
            }
            return tags
        }
    }

    /// Data arrives at `peer`: its dataset now has `samples` rows.
    static func arrive(_ cluster: inout PeerCluster, at peer: Int, samples: UInt64, datasets: [Int: UInt64], model: Int = 2) {
        var all = datasets
        all[peer] = samples
        let answer = cluster.control(.setTags(tags(datasets: all, model: model)(peer)), at: peer)
        precondition(answer.ok, answer.message)
    }

    static func submitted(_ spec: TaskSpec = TestSpec.job(), datasets: [Int: UInt64] = [2: 50], driver: (inout FakeDriver) -> Void = { _ in })
        throws -> (PeerCluster, TaskID) {
        var cluster = PeerCluster(count: 4, tags: tags(datasets: datasets))
        driver(&cluster.driver)
        cluster.advance(by: .seconds(1))
        let submitted = cluster.submit(spec, at: 3)
        let id = try #require(submitted)
        return (cluster, id)
    }

    /// Advances until `condition` holds, or fails the test.
    static func reach(_ cluster: inout PeerCluster, until condition: (PeerCluster) -> Bool, within limit: Duration,
                      sourceLocation: SourceLocation = #_sourceLocation) throws {
        let reached = cluster.advance(until: condition, within: limit)
        try #require(reached, "not reached within \(limit)", sourceLocation: sourceLocation)
    }

    static func job(_ cluster: PeerCluster, _ id: TaskID, at peer: Int = 3) -> IncrementalView? { cluster.view(id, at: peer)?.incremental }

    static func steps(_ cluster: PeerCluster, _ id: TaskID, at peer: Int = 3) -> [JobStep] {
        job(cluster, id, at: peer)?.steps.map(\.transition.step) ?? []
    }

    @Test func versionOneServesAtOnceAndDataArrivingTrainsEvaluatesAndDeploysVersionTwo() throws {
        var (cluster, id) = try Self.submitted()
        try Self.reach(&cluster, until: { Self.job($0, id)?.current?.version == 1 }, within: .seconds(30))
        let first = try #require(Self.job(cluster, id)?.current)
        #expect(first.model == Self.initialModel && first.parent == 0 && first.cycle == 0)
        // Version 1 is served from the start, on the peer holding the dataset only.
        try Self.reach(&cluster, until: { $0.serveOrders(for: id, at: 2).count == 1 }, within: .seconds(5))
        #expect(cluster.serveOrders(for: id, at: 2).first?.work.roles[.edge]?.model == Self.initialModel)
        #expect([0, 1, 3].allSatisfy { cluster.serveOrders(for: id, at: $0).isEmpty })
        // 50 rows hold about 40 training rows: not more than 100; nothing trains.
        cluster.advance(by: .seconds(20))
        #expect(Self.steps(cluster, id).count == 1)
        let holder = try #require(cluster.holder(of: id, at: 3))
        #expect([0, 1].contains(holder))
        let check = try #require(cluster.summary(id, at: holder)?.job?.trainCheck)
        #expect(check.contains("num_of_samples = ") && check.contains("not num_of_samples > 100"), "\(check)")

        Self.arrive(&cluster, at: 2, samples: 400, datasets: [2: 50])
        try Self.reach(&cluster, until: { Self.job($0, id)?.current?.version == 2 }, within: .seconds(60))
        let steps = Self.steps(cluster, id)
        #expect(steps.count == 5, "\(steps)")
        guard case let .training(work) = steps[1] else { Issue.record("not training: \(steps[1])"); return }
        #expect(work.peers == [cluster.nodes[2]] && work.rows == [400] && work.baseVersion == 1 && work.base == Self.initialModel)
        #expect((280...360).contains(work.newSamples), "about 0.8 × 400 new training rows: \(work.newSamples)")
        guard case let .evaluating(candidate, _) = steps[2], case let .deciding(evaluation) = steps[3],
              case let .deployed(second) = steps[4] else { Issue.record("\(steps)"); return }
        #expect(second.model == candidate && second.parent == 1 && second.cycle == 1 && second.version == 2)
        #expect(second.evaluation == evaluation && evaluation.candidate.total == 80)
        #expect(abs((evaluation.metrics["accuracy_delta"]?.value ?? 0) - 0.1) < 1e-9)
        // The deploy peer follows version 2; the job waits to train again.
        try Self.reach(&cluster, until: { cluster in
            cluster.serveOrders(for: id, at: 2).contains { $0.work.version == 2 && $0.work.roles[.edge]?.model == candidate }
        }, within: .seconds(5))
        let summary = try #require(cluster.summary(id, at: 2)?.job)
        #expect(summary.stage == .train && summary.status == .waiting && summary.cycle == 2 && summary.versions.count == 2)
        #expect(summary.servedVersion == 2 && summary.deploysHere)
        // Train and eval were asked once each, of peer 2 alone; the candidate was combined once.
        let orders = cluster.orders(for: id).compactMap { order -> (peer: Int, work: IncrementalWork)? in
            if case let .incremental(work) = order.work { return (order.peer, work) }
            return nil
        }
        #expect(orders.filter { if case .train = $0.work { return true } else { return false } }.map { $0.peer } == [2])
        #expect(orders.filter { if case .evaluate = $0.work { return true } else { return false } }.map { $0.peer } == [2])
        #expect(orders.filter { if case .combine = $0.work { return true } else { return false } }.map { $0.peer } == [holder])
        // Every peer holds the same history.
        for peer in 0..<4 { #expect(Self.steps(cluster, id, at: peer) == steps, "peer \(peer)") }
    }

    @Test func aCandidateNoBetterCompletesTheCycleNotDeployedWithTheNumbers() throws {
        var (cluster, id) = try Self.submitted(datasets: [2: 400]) { (driver: inout FakeDriver) in driver.evaluation = { _, _ in (800, 850) } }
        try Self.reach(&cluster, until: { Self.steps($0, id).count >= 5 }, within: .seconds(60))
        let steps = Self.steps(cluster, id)
        guard case let .notDeployed(reason) = steps[4] else { Issue.record("\(steps)"); return }
        #expect(reason.contains("accuracy_delta = -0.05") && reason.contains("not accuracy_delta > 0"), "\(reason)")
        #expect(Self.job(cluster, id)?.current?.version == 1 && Self.job(cluster, id).map { $0.position == (.train, .waiting) } == true)
        // The rows were consumed: the next cycle waits for new ones.
        cluster.advance(by: .seconds(20))
        #expect(Self.steps(cluster, id).count == 5)
    }

    @Test func severalHoldersTrainFederatedAndTheirEvaluationsAddUp() throws {
        var (cluster, id) = try Self.submitted(datasets: [2: 300, 3: 200])
        try Self.reach(&cluster, until: { Self.job($0, id)?.current?.version == 2 }, within: .seconds(60))
        let steps = Self.steps(cluster, id)
        guard case let .training(work) = steps[1], case let .deciding(evaluation) = steps[3] else { Issue.record("\(steps)"); return }
        #expect(work.peers == cluster.sortedNodes([2, 3]) && Set(work.rows) == [300, 200])
        #expect(evaluation.candidate.total == 60 + 40, "each peer's evaluation rows, summed")
        let combines = cluster.orders(for: id).compactMap { order -> JobCombineWork? in
            if case let .incremental(.combine(work)) = order.work { return work }
            return nil
        }
        #expect(combines.count == 1 && combines.first?.updates.count == 2)
        // Both holders serve the new version.
        for peer in [2, 3] { #expect(cluster.serveOrders(for: id, at: peer).last?.work.version == 2, "peer \(peer)") }
    }

    @Test func aNewCoordinatorResumesMidStageAndDeploysTheCandidateOnce() throws {
        var (cluster, id) = try Self.submitted(datasets: [2: 400]) { (driver: inout FakeDriver) in
            driver.withhold = { _, work in if case .incremental(.combine) = work { return true } else { return false } }
        }
        try Self.reach(&cluster, until: { cluster in
            cluster.driver.withheld.contains { if case .incremental(.combine) = $0.work { return true } else { return false } }
        }, within: .seconds(60))
        let first = try #require(cluster.holder(of: id, at: 3))
        cluster.crash(first)
        cluster.driver.withhold = { _, _ in false }
        try Self.reach(&cluster, until: { Self.job($0, id)?.current?.version == 2 }, within: .seconds(120))
        let second = try #require(cluster.holder(of: id, at: 3))
        #expect(second != first)
        cluster.advance(by: .seconds(20))
        let steps = Self.steps(cluster, id)
        let deploys = steps.filter { if case .deployed = $0 { return true } else { return false } }
        #expect(deploys.count == 2, "version 1, then the candidate once: \(steps)")
        let trainings = steps.filter { if case .training = $0 { return true } else { return false } }
        #expect(trainings.count == 1, "the training step stands; its updates are combined by the new coordinator")
    }

    @Test func aRollbackIsCommittedAndFollowedByTheDeployPeers() throws {
        var (cluster, id) = try Self.submitted(datasets: [2: 400])
        try Self.reach(&cluster, until: { Self.job($0, id)?.current?.version == 2 }, within: .seconds(60))
        let refused = cluster.control(.rollbackJob("learn", version: 7), at: 3)
        #expect(!refused.ok && refused.message.contains("no version 7"), "\(refused.message)")
        let answer = cluster.control(.rollbackJob("deployed", version: 0), at: 3)
        #expect(answer.ok, "\(answer.message)")
        try Self.reach(&cluster, until: { Self.job($0, id)?.current?.version == 1 }, within: .seconds(30))
        #expect(Self.job(cluster, id)?.pendingRollbacks.isEmpty == true)
        try Self.reach(&cluster, until: { cluster in
            cluster.serveOrders(for: id, at: 2).last.map { $0.work.version == 1 && $0.work.roles[.edge]?.model == Self.initialModel } ?? false
        }, within: .seconds(5))
        #expect(Self.job(cluster, id)?.versions.count == 2, "a rollback makes no new version")
    }

    @Test func aJobWithNoPeerHoldingTheDatasetWaitsAndSaysWhy() throws {
        var (cluster, id) = try Self.submitted(datasets: [:])
        cluster.advance(by: .seconds(30))
        #expect(Self.steps(cluster, id).count == 1, "version 1 is deployed; nothing trains")
        #expect(cluster.logs.contains { $0.text.contains("waits: no peer to train on") })
    }
}

extension IncrementalProgramTests {
    @Test func aVersionThatFailsToLoadIsAskedForAgainEveryPollPeriod() throws {
        var (cluster, id) = try Self.submitted()
        cluster.driver.servingFailure = { _, _, _ in "the worker cannot load the model" }
        try Self.reach(&cluster, until: { $0.serveOrders(for: id, at: 2).count == 1 }, within: .seconds(30))
        // The job's pollPeriodSeconds is the default, 60 s: asked again once a minute, not each tick.
        cluster.advance(by: .seconds(50))
        #expect(cluster.serveOrders(for: id, at: 2).count == 1)
        cluster.driver.servingFailure = { _, _, _ in nil }
        try Self.reach(&cluster, until: { $0.summary(id, at: 2)?.job?.servedVersion == 1 }, within: .seconds(15))
        #expect(cluster.serveOrders(for: id, at: 2).count == 2)
    }
}

extension IncrementalProgramTests {
    @Test func theFirstCandidateIsComparedWithTheInitialEvalModelWhenTheSpecNamesOne() throws {
        var spec = TestSpec.job()
        guard case var .incrementalLearningJob(job) = spec.kind else { Issue.record("not a job"); return }
        job.evalSpec.initialEvalModel = ModelRef(name: "baseline")
        spec.kind = .incrementalLearningJob(job)
        let baseline = ContentHash.of(Array("a baseline".utf8))
        var cluster = PeerCluster(count: 4, tags: { peer in
            var tags = Self.tags(datasets: [2: 400])(peer)
            if peer == 3 { tags[ModelTags.tag(for: "baseline")] = ModelTags.value(for: baseline) }
            return tags
        })
        cluster.advance(by: .seconds(1))
        let submitted = cluster.submit(spec, at: 3)
        let id = try #require(submitted)
        try Self.reach(&cluster, until: { Self.job($0, id)?.current?.version == 2 }, within: .seconds(60))
        let evaluations = cluster.orders(for: id).compactMap { order -> JobEvalWork? in
            if case let .incremental(.evaluate(work)) = order.work { return work }
            return nil
        }
        #expect(evaluations.count == 1 && evaluations.first?.deployed == baseline)
        #expect(evaluations.first?.sources.contains { $0.node == cluster.nodes[3] } == true, "the baseline's declarer is a source")
    }
}

extension IncrementalProgramTests {
    /// With no coordinator tags every peer may coordinate: an edge cut off from everyone (its
    /// uplink gone) takes the job over, keeps learning on the data arriving there, and after the
    /// heal every peer holds the version it deployed meanwhile.
    @Test func anEdgeCutOffFromEveryoneKeepsLearningAndItsVersionsSurviveTheHeal() throws {
        var spec = TestSpec.job()
        spec.coordinator = Placement(tags: [])
        var (cluster, id) = try Self.submitted(spec, datasets: [2: 400])
        try Self.reach(&cluster, until: { Self.job($0, id)?.current?.version == 2 }, within: .seconds(60))
        cluster.isolated = [2]
        Self.arrive(&cluster, at: 2, samples: 900, datasets: [2: 400])
        try Self.reach(&cluster, until: { Self.job($0, id, at: 2)?.current?.version == 3 }, within: .seconds(180))
        #expect(cluster.holder(of: id, at: 2) == 2, "the cut-off edge coordinates its side")
        #expect([0, 1, 3].allSatisfy { Self.job(cluster, id, at: $0)?.current?.version == 2 }, "the other side could not train")
        cluster.isolated = []
        try Self.reach(&cluster, until: { cluster in (0..<4).allSatisfy { Self.job(cluster, id, at: $0)?.current?.version == 3 } },
                       within: .seconds(120))
        let steps = Self.steps(cluster, id, at: 0)
        #expect((0..<4).allSatisfy { Self.steps(cluster, id, at: $0) == steps })
        #expect(steps.filter { if case .deployed = $0 { return true } else { return false } }.count == 3, "\(steps)")
    }
}
