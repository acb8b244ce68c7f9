import StarlingCrypto
@testable import StarlingTasks
import StarlingTrust
import Testing

/// Weighted rendezvous hashing: deterministic, proportional to weights, and placement by tags.
@Suite struct ElectionTests {
    static func task(_ index: Int) -> TaskID {
        TaskID(hash: ContentHash.of(Array("task-\(index)".utf8)))
    }

    @Test func scoresAreFinitePositiveAndDeterministic() {
        let task = Self.task(0), node = TaskFixture.node(0)
        let score = CoordinatorElection.score(task: task, node: node, weight: 1)
        #expect(score.isFinite && score > 0)
        #expect(CoordinatorElection.score(task: task, node: node, weight: 1) == score)
        #expect(CoordinatorElection.score(task: task, node: node, weight: 2) == 2 * score)
        #expect(CoordinatorElection.score(task: task, node: node, weight: 0) == 0)
        #expect(CoordinatorElection.score(task: task, node: node, weight: .nan) == 0)
        #expect(CoordinatorElection.score(task: Self.task(1), node: node, weight: 1) != score)
    }

    @Test func rankIsDeterministicAndIndependentOfInputOrder() {
        let candidates = (0...4).map { CoordinatorElection.Candidate(node: TaskFixture.node($0), capacity: Double($0 + 1)) }
        let task = Self.task(7)
        let ranked = CoordinatorElection.rank(task: task, candidates: candidates)
        #expect(ranked.count == 5 && Set(ranked).count == 5)
        #expect(CoordinatorElection.rank(task: task, candidates: candidates.reversed()) == ranked)
        // Equal scores (the same node twice) fall back to NodeID order, so the result is stable.
        let twice = CoordinatorElection.rank(task: task, candidates: candidates + candidates)
        #expect(twice.count == 10)
        #expect(CoordinatorElection.rank(task: task, candidates: []) == [])
    }

    @Test func aHeavyNodeWinsAlmostEveryTask() {
        var wins = 0
        for index in 0..<1_000 {
            let candidates = [
                CoordinatorElection.Candidate(node: TaskFixture.node(0), capacity: 100),
                CoordinatorElection.Candidate(node: TaskFixture.node(1), capacity: 1),
                CoordinatorElection.Candidate(node: TaskFixture.node(2), capacity: 1),
            ]
            if CoordinatorElection.rank(task: Self.task(index), candidates: candidates).first == TaskFixture.node(0) { wins += 1 }
        }
        // Expected 100/102 = 98%.
        #expect(wins >= 960, "the weight-100 node won \(wins) of 1,000")
    }

    @Test func winsAreRoughlyProportionalToWeights() {
        let weights: [Double] = [1, 2, 3, 4]
        var wins = [Int](repeating: 0, count: weights.count)
        let trials = 10_000
        for index in 0..<trials {
            let candidates = weights.indices.map { CoordinatorElection.Candidate(node: TaskFixture.node($0), capacity: weights[$0]) }
            if let first = CoordinatorElection.rank(task: Self.task(index), candidates: candidates).first,
               let winner = weights.indices.first(where: { TaskFixture.node($0) == first }) {
                wins[winner] += 1
            }
        }
        for (index, weight) in weights.enumerated() {
            let expected = Double(trials) * weight / 10
            // Within 10% of the expectation (standard deviation is under 1.7% of it here).
            #expect(abs(Double(wins[index]) - expected) < 0.1 * expected, "weight \(weight): \(wins[index]) wins, expected \(expected)")
        }
    }

    @Test func linkQualityScalesTheRankButNotTheElectionScore() {
        let task = Self.task(3)
        let nodes = (0...1).map(TaskFixture.node)
        var turned = false
        for quality in [1.0, 0.5, 0.1, 0.01, 0.001] {
            let ranked = CoordinatorElection.rank(task: task, candidates: [
                .init(node: nodes[0], capacity: 1, linkQuality: quality), .init(node: nodes[1], capacity: 1),
            ])
            if ranked.first == nodes[1] { turned = true }
        }
        #expect(turned, "a poor enough link pushes a candidate down")
        // The race score has no link quality at all.
        #expect(CoordinatorElection.electionScore(task: task, node: nodes[0], capacity: 3)
                == CoordinatorElection.score(task: task, node: nodes[0], weight: 3))
    }

    @Test func capacityComesFromTheCapacityTag() {
        #expect(CoordinatorElection.capacity(tags: [:]) == 1)
        #expect(CoordinatorElection.capacity(tags: ["capacity": "8"]) == 8)
        #expect(CoordinatorElection.capacity(tags: ["capacity": "2.5"]) == 2.5)
        #expect(CoordinatorElection.capacity(tags: ["capacity": "lots"]) == 1)
        #expect(CoordinatorElection.capacity(tags: ["capacity": "-3"]) == 1)
        #expect(CoordinatorElection.capacity(tags: ["capacity": "0"]) == 1)
        #expect(CoordinatorElection.capacity(tags: ["capacity": "nan"]) == 1)
        #expect(CoordinatorElection.capacity(tags: ["capacity": "1e300"]) == TaskStateLimits.capacityMax)
    }

    @Test func placementAndCoordinatorTags() {
        let spec = TaskFixture.spec(placement: [TaskTag("zone", "eu")], coordinator: [TaskTag("tier", "cloud")])
        #expect(TaskPlacementMatcher.matches(spec, tags: ["zone": "eu", "tier": "cloud", "gpu": "1"]) == (true, true))
        #expect(TaskPlacementMatcher.matches(spec, tags: ["zone": "eu", "tier": "edge"]) == (true, false))
        #expect(TaskPlacementMatcher.matches(spec, tags: ["zone": "us", "tier": "cloud"]) == (false, false))
        #expect(TaskPlacementMatcher.matches(spec, tags: [:]) == (false, false))
        let anywhere = TaskFixture.spec()
        #expect(TaskPlacementMatcher.matches(anywhere, tags: [:]) == (true, true))
    }
}
