import StarlingCrypto
import StarlingLocalAPI
@testable import StarlingPeer
@testable import StarlingRuntime
import StarlingTasks
import StarlingTrust
import Testing

/// A job's summary as the local API reports it: each step in one line, versions with their
/// metrics and deploy time (docs/cli.md, "status of an IncrementalLearningJob").
struct JobReportTests {
    static func node(_ seed: UInt8) throws -> NodeID { NodeID(try SigningKey(seed: [UInt8](repeating: seed, count: 32)).publicKey) }

    @Test func stepsAreToldInOneLineWithPeersByName() throws {
        let edge1 = try Self.node(1), edge2 = try Self.node(2)
        let initial = ContentHash.of([1]), candidate = ContentHash.of([2])
        // 2 classes; the candidate gets 9 of 10 right, the deployed model 8.
        let better = ConfusionMatrix(classes: 2, counts: [5, 0, 1, 4])
        let worse = ConfusionMatrix(classes: 2, counts: [4, 1, 1, 4])
        let evaluation = Evaluation(candidate: better, deployed: worse)
        let first = ModelVersion(version: 1, model: initial, parent: 0, cycle: 0, trainSamples: 0, evalSamples: 0, evaluation: nil)
        let second = ModelVersion(version: 2, model: candidate, parent: 1, cycle: 1, trainSamples: 320, evalSamples: 10,
                                  evaluation: evaluation)
        let work = StageWork(baseVersion: 1, base: initial, peers: [edge1, edge2], rows: [300, 100], newSamples: 320)
        let steps: [JobStep] = [
            .deployed(first), .training(work), .evaluating(candidate: candidate, work: work), .deciding(evaluation), .deployed(second),
            .notDeployed(reason: "accuracy_delta = -0.01, not accuracy_delta > 0"), .failed(stage: .train, reason: "edge-1: no answer"),
            .rolledBack(to: 1, request: ContentHash.of([3])), .rollbackRefused(request: ContentHash.of([4]), reason: "no version 7"),
        ]
        let history = steps.enumerated().map { index, step in
            JobTransition(epoch: 1, round: UInt64(index + 1), cycle: index == 0 ? 0 : 1, step: step, at: 1_000 + UInt64(index))
        }
        let job = TaskSummary.Job(cycle: 2, stage: .train, status: .waiting, since: 1_008, current: first, versions: [first, second],
                                  history: history, steps: 9, trainCheck: "num_of_samples = 3, not num_of_samples > 200",
                                  waitingFor: nil, servedVersion: 1, servingFailure: nil, deploysHere: true, dataset: "incoming",
                                  deployModelName: "digits-live")
        let report = JobReport(job, names: [edge1: "edge-1"])
        let hex1 = String(initial.hex.prefix(12)), hex2 = String(candidate.hex.prefix(12))
        // A stage's peers in NodeID order; a peer membership does not name shows as its short id.
        let peers = work.peers.map { $0 == edge1 ? "edge-1" : $0.short }.joined(separator: ", ")
        #expect(report.history.map(\.text) == [
            "deployed version 1: the initial model (\(hex1))",
            "train running on \(peers) (400 rows, 320 new training rows) from version 1",
            "train completed: candidate \(hex2); eval running on \(peers)",
            "eval completed on 10 rows: accuracy 0.9000 (+0.1000), f1 0.8990 (+0.0990)",
            "deployed version 2 (model \(hex2), from version 1)",
            "not deployed: accuracy_delta = -0.01, not accuracy_delta > 0",
            "train failed: edge-1: no answer",
            "rolled back to version 1",
            "rollback refused: no version 7",
        ])
        #expect(report.history.map(\.stage) == ["deploy", "train", "eval", "deploy", "deploy", "deploy", "train", "deploy", "deploy"])
        #expect(report.history.map(\.status) == ["completed", "running", "running", "waiting", "completed", "completed", "failed",
                                                 "completed", "completed"])
        #expect(report.history.map(\.round) == Array(1...9) && report.history[3].at == 1_003)
        #expect(report.currentVersion == 1 && report.stage == "train" && report.status == "waiting" && report.cycle == 2)
        #expect(report.trainCheck == "num_of_samples = 3, not num_of_samples > 200" && report.servedVersion == 1)

        // Versions: deployed at their step's time; metrics with deltas, no num_of_samples.
        #expect(report.versions.map(\.deployedAt) == [1_000, 1_004])
        #expect(report.versions[0].metrics == nil && report.versions[0].model == initial.hex)
        let metrics = try #require(report.versions[1].metrics)
        #expect(Set(metrics.keys) == ["accuracy", "accuracy_delta", "precision", "precision_delta", "recall", "recall_delta", "f1",
                                      "f1_delta"])
        #expect(abs(metrics["accuracy"]! - 0.9) < 1e-12 && abs(metrics["accuracy_delta"]! - 0.1) < 1e-12)
        let perClass = try #require(report.versions[1].perClass)
        #expect(Set(perClass.keys) == ["precision", "precision_delta", "recall", "recall_delta", "f1", "f1_delta"])
        #expect(perClass["recall"] == [1, 0.8] && perClass["recall_delta"]?.count == 2)

        // A version whose deploy step is older than the history has no time.
        let short = TaskSummary.Job(cycle: 2, stage: .train, status: .waiting, since: nil, current: second, versions: [first, second],
                                    history: Array(history.suffix(2)), steps: 9, trainCheck: nil, waitingFor: nil, servedVersion: nil,
                                    servingFailure: nil, deploysHere: false, dataset: "incoming", deployModelName: "digits-live")
        #expect(JobReport(short, names: [:]).versions.map(\.deployedAt) == [nil, nil])
    }
}
