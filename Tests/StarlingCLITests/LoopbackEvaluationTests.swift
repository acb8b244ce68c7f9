import Foundation
import StarlingLearning
import Testing

/// Central evaluation on real peers (docs/workers.md, "Central evaluation"): the coordinator scores
/// each validating round's new model on its own evaluation dataset, with the task's workers'
/// program started as an evaluator, and the scores are in the commit's metrics.
extension LoopbackClusterTests {
    @Test func theCoordinatorScoresEveryValidatingRoundOnItsEvaluationDataset() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        let nodes = try Self.trainingCluster(cli, names: ["cloud", "edge-a", "edge-b"])
        defer { Self.stopAll(nodes) }
        try Self.registerDigits(cli, on: Array(nodes[1...]), dataset: { _ in "digits" }, seeing: nodes[0])
        // The held-out 20% on the cloud only: it is the one peer that may coordinate the task.
        let test = Digits.stratifiedSplit(try Digits.load(), testFraction: 0.2, seed: 0).test
        let testPath = cli.path("digits-test.csv")
        _ = FileManager.default.createFile(atPath: testPath, contents: Data(DatasetFile.encodeCSV(test)))
        let added = try cli.run("dataset", "add", "digits-test", "--path", testPath, "--peer", nodes[0].directory)
        try #require(added.status == 0, "\(added.stderr)")
        let spec = cli.path("evaluated.yaml")
        try """
            apiVersion: edgeai.io/v1alpha1
            kind: FederatedTask
            metadata: {name: evaluated}
            spec:
              rounds: 4
              roundsBetweenValidations: 2
              aggregationWorker:
                evaluation:
                  dataset: {name: digits-test}
                workerSpec:
                  parameters:
                    - {key: learning_rate, value: 0.5}
                    - {key: epochs, value: 3}
                    - {key: num_classes, value: 10}
              trainingWorkers:
                - name: a
                  workerSpec:
                    dataset: {name: digits}
                    trainScriptBootFile: builtin:logreg
                - name: b
            """.write(toFile: spec, atomically: true, encoding: .utf8)
        let submitted = try cli.run("task", "submit", spec, "--peer", nodes[0].directory)
        try #require(submitted.status == 0, "\(submitted.stderr)")
        // Completed on the edge that is read below, not only on the coordinator.
        let completed = PeerCommandTests.wait(seconds: 90) { Self.trainingTask(cli, nodes[2], name: "evaluated")?.phase == "completed" }
        try #require(completed, "completed within 90 s:\n\(Self.describeTraining(cli, nodes, name: "evaluated"))")
        let task = try #require(Self.trainingTask(cli, nodes[2], name: "evaluated"))
        #expect(task.coordinatorName == "cloud", "only the peer holding digits-test coordinates")
        let scored = task.committed.filter { $0.metrics?["central_accuracy"] != nil }.map(\.round)
        let evaluatorLog = (try? cli.run("task", "logs", "evaluated", "--worker", "aggregation-worker", "--peer", nodes[0].directory))?.stdout ?? ""
        let peerLog = (try? String(contentsOfFile: "\(nodes[0].directory)/peer.log", encoding: .utf8)) ?? ""
        let cloudLines = peerLog.split(separator: "\n").filter { $0.contains("evaluat") || $0.contains("scored") }.suffix(20)
        let context = "evaluator:\n\(evaluatorLog.suffix(1500))\ncloud:\n\(cloudLines.joined(separator: "\n"))"
        #expect(scored == [2, 4], "rounds 2 and 4 validate: \(task.committed.map { ($0.round, $0.metrics ?? [:]) })\n\(context)")
        let last = try #require(task.committed.last?.metrics)
        #expect((last["central_accuracy"] ?? 0) > 0.8, "the global model scores on the held-out set: \(last)")
        #expect((last["central_loss"] ?? .infinity) < 1.5, "\(last)")
        let logs = try cli.run("task", "logs", "evaluated", "--worker", "aggregation-worker", "--peer", nodes[0].directory)
        #expect(logs.stdout.contains("--- round 4 scored: accuracy"), "\(logs.stdout.suffix(600))")
        let status = try cli.run("task", "status", "evaluated", "--peer", nodes[1].directory)
        #expect(status.stdout.contains("central accuracy"), "\(status.stdout)")
    }
}
