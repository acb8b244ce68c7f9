import Foundation
import StarlingLearning
import Testing

/// `starling model versions|rollback` and `task status` of a job on one real peer (docs/cli.md):
/// the clear errors for no such job, an unknown version and no parent, and version 1 (the initial
/// model) as every command shows it. The job's later cycles are the lead's real-process tests.
extension LoopbackClusterTests {
    @Test func modelVersionsAndRollbackNameWhatIsWrong() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        let nodes = try Self.trainingCluster(cli, names: ["solo"])
        defer { Self.stopAll(nodes) }
        let peer = nodes[0].directory

        // No job at all.
        let noVersions = try cli.run("model", "versions", "digits-live", "--peer", peer)
        #expect(noVersions.status == 1)
        #expect(noVersions.stderr.contains("no IncrementalLearningJob named digits-live, nor one deploying a model named digits-live"),
                "\(noVersions.stderr)")
        let noRollback = try cli.run("model", "rollback", "digits-live", "--peer", peer)
        #expect(noRollback.status == 1 && noRollback.stderr.contains("no IncrementalLearningJob named digits-live"), "\(noRollback.stderr)")
        let zero = try cli.run("model", "rollback", "digits-live", "--to", "0", "--peer", peer)
        #expect(zero.status != 0 && zero.stderr.contains("--to: model versions start at 1"), "\(zero.stderr)")

        // A job whose initial model is imported here deploys it as version 1.
        let start = cli.path("start.safetensors")
        try Data(SafeTensors.encode(try ModelWeights(tensors: [Tensor(name: "w", shape: [2], values: [0.5, -1])])))
            .write(to: URL(fileURLWithPath: start))
        let imported = try cli.run("model", "import", "digits", "--path", start, "--peer", peer)
        try #require(imported.status == 0, "\(imported.stderr)")
        let spec = cli.path("job.yaml")
        try """
            apiVersion: edgeai.io/v1alpha1
            kind: IncrementalLearningJob
            metadata: {name: digits-incremental}
            spec:
              initialModel: {name: digits}
              dataset: {name: incoming, trainProb: 0.8}
              trainSpec:
                workerSpec: {scriptBootFile: "builtin:logreg"}
                trigger:
                  checkPeriodSeconds: 1
                  condition: {operator: gt, threshold: 200, metric: num_of_samples}
              evalSpec:
                workerSpec: {scriptBootFile: "builtin:logreg"}
              deploySpec:
                model: {name: digits-live, hotUpdateEnabled: true}
                workerSpec: {scriptBootFile: "builtin:logreg"}
                trigger:
                  checkPeriodSeconds: 1
                  condition: {operator: gt, threshold: 0, metric: accuracy_delta}
            """.write(toFile: spec, atomically: true, encoding: .utf8)
        let submitted = try cli.run("task", "submit", spec, "--peer", peer)
        try #require(submitted.status == 0, "\(submitted.stderr)")
        var versions = ""
        let deployed = try PeerCommandTests.wait(seconds: 20) {
            // By the model name the job deploys.
            versions = try cli.run("model", "versions", "digits-live", "--peer", peer).stdout
            return versions.contains("version 1 serving")
        }
        try #require(deployed, "version 1 deployed within 20 s: \(versions)")
        #expect(versions.hasPrefix("job digits-incremental "), "\(versions)")
        #expect(versions.contains("\n1        *        "), "\(versions)")
        let json = try cli.run("model", "versions", "digits-incremental", "--json", "--peer", peer)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["currentVersion"] as? Int == 1 && object["deployModelName"] as? String == "digits-live")

        let noParent = try cli.run("model", "rollback", "digits-incremental", "--peer", peer)
        #expect(noParent.status == 1 && noParent.stderr.contains("version 1 is the initial model; there is no earlier version"),
                "\(noParent.stderr)")
        let unknown = try cli.run("model", "rollback", "digits-live", "--to", "7", "--peer", peer)
        #expect(unknown.status == 1 && unknown.stderr.contains("has no version 7 (versions: 1)"), "\(unknown.stderr)")

        let status = try cli.run("task", "status", "digits-incremental", "--peer", peer)
        #expect(status.stdout.contains("kind         IncrementalLearningJob\n"), "\(status.stdout)")
        #expect(status.stdout.contains("version      1 (model "), "\(status.stdout)")
        #expect(status.stdout.contains("history      1 step\n"), "\(status.stdout)")
        #expect(status.stdout.contains("the initial model)\n") && status.stdout.contains("deployed version 1: the initial model"),
                "\(status.stdout)")
        let list = try cli.run("task", "list", "--peer", peer)
        #expect(list.stdout.contains("v1 "), "\(list.stdout)")
    }
}
