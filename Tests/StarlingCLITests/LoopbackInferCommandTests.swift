import Foundation
import StarlingLearning
import StarlingLocalAPI
import StarlingWorker
import Testing

/// `starling infer` and `task status` on real peers: a cloud peer (tier=cloud) and two edges
/// serve a JointInferenceService of built-in models trained here on the embedded digits; the
/// held-out split as CSV is answered in full through one edge's local API (docs/cli.md, "infer").
@Suite(.serialized) struct LoopbackInferCommandTests {
    typealias Node = LoopbackClusterTests.Node

    /// A logistic regression on a fifth of the training split for the edges, an MLP on all of it
    /// for the cloud, and the held-out split as CSV (features, then the label).
    static func models(_ cli: CLIRunner) throws -> (small: String, big: String, test: String) {
        let (train, test) = Digits.stratifiedSplit(try Digits.load(), testFraction: 0.2, seed: 7)
        let part = Digits.stratifiedSplit(train, testFraction: 0.8, seed: 8).train
        func trained(_ kind: BuiltinWorker, _ data: LabeledData, epochs: Int, rate: Double, name: String) throws -> String {
            let trainer = BuiltinTrainer(kind: kind, featureCount: Digits.featureCount, classCount: Digits.classCount)
            let result = try trainer.train(trainer.initialWeights(seed: 1), on: data, epochs: epochs, batchSize: 32,
                                           learningRate: rate, proximalMu: 0, seed: 2)
            let path = cli.path(name)
            try Data(SafeTensors.encode(result.weights)).write(to: URL(fileURLWithPath: path))
            return path
        }
        let testPath = cli.path("test.csv")
        try Data(DatasetFile.encodeCSV(test)).write(to: URL(fileURLWithPath: testPath))
        return (try trained(.logreg, part, epochs: 40, rate: 0.5, name: "small.safetensors"),
                try trained(.mlp, train, epochs: 20, rate: 0.1, name: "big.safetensors"), testPath)
    }

    @Test func inferAnswersEveryExampleOfATestSetAndTaskStatusShowsTheService() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        var nodes = try ["cloud", "edge-a", "edge-b"].map { name in
            let (directory, _) = try PeerCommandTests.admittedNode(cli, name: name, roles: "peer,coordinator,submit")
            return Node(name: name, directory: directory, port: PeerCommandTests.freePort())
        }
        for index in nodes.indices {
            nodes[index].process = try PeerCommandTests.startPeer(
                cli, ["--data-dir", nodes[index].directory, "--listen", nodes[index].address, "--bootstrap", nodes[0].address,
                      "--tags", index == 0 ? "tier=cloud" : "tier=edge", "--log-level", "info"],
                log: "\(nodes[index].directory)/peer.log")
        }
        defer { LoopbackClusterTests.stopAll(nodes) }
        let (small, big, test) = try Self.models(cli)
        let joined = try PeerCommandTests.wait(seconds: 15) {
            try nodes.allSatisfy { node in
                let states = try LoopbackClusterTests.states(cli, node)
                return states.count == 3 && Set(states.values) == ["alive"]
            }
        }
        try #require(joined, "3 peers joined")
        try #require(try cli.run("model", "import", "small", "--path", small, "--peer", nodes[1].directory).status == 0)
        try #require(try cli.run("model", "import", "big", "--path", big, "--peer", nodes[0].directory).status == 0)
        let specPath = cli.path("service.yaml")
        try LoopbackInferenceTests.spec.write(toFile: specPath, atomically: true, encoding: .utf8)
        let submitted = try cli.run("task", "submit", specPath, "--peer", nodes[2].directory)
        try #require(submitted.status == 0, "\(submitted.stderr)")
        let serving = PeerCommandTests.wait(seconds: 20) {
            nodes.allSatisfy { node in
                ((try? String(contentsOfFile: "\(node.directory)/peer.log", encoding: .utf8)) ?? "").contains("serves deployment")
            }
        }
        try #require(serving, "every peer serves the service")

        let examples = try String(contentsOfFile: test, encoding: .utf8).split(separator: "\n").count
        let answered = try cli.run("infer", "digits-joint", "--input", test, "--peer", nodes[2].directory, "--json", "--batch", "4")
        try #require(answered.status == 0, "\(answered.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(answered.stdout.utf8)) as? [String: Any])
        let rows = try #require(report["examples"] as? [[String: Any]])
        #expect(rows.count == examples && Set(rows.compactMap { $0["index"] as? Int }) == Set(0..<examples))
        let accuracy = try #require(report["accuracy"] as? Double)
        #expect(accuracy > 0.85, "accuracy \(accuracy)")
        let paths = try #require(report["paths"] as? [String: Int])
        #expect(paths.values.reduce(0, +) == examples && (paths["edge"] ?? 0) > 0, "\(paths)")
        #expect(report["requests"] as? Int == (examples + 3) / 4)

        // The text form: a line per example and the summary.
        let text = try cli.run("infer", "digits-joint", "--input", test, "--peer", nodes[1].directory)
        try #require(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.hasPrefix("labels: last column"))
        #expect(text.stdout.contains("examples     \(examples) in \(examples) requests of 64 features"))
        #expect(text.stdout.contains("latency      p50 "))

        // The Swift Lib's client: the same answers through the same socket.
        let firstRows = try String(contentsOfFile: test, encoding: .utf8).split(separator: "\n").prefix(5)
            .map { line in line.split(separator: ",").dropLast().compactMap { Float($0) } }
        let client = ServiceClient(peer: nodes[1].directory)
        let swiftAnswer = try client.infer("digits-joint", Array(firstRows))
        #expect(swiftAnswer.classes.count == 5 && swiftAnswer.scores.allSatisfy { abs($0.reduce(0, +) - 1) < 0.01 })
        #expect(swiftAnswer.computedAt.allSatisfy { ["edge", "cloud"].contains($0) }, "\(swiftAnswer.computedAt)")
        #expect(throws: ErrorResponse.self) { try client.infer("no-such-service", Array(firstRows)) }

        // An unknown service and a bad file: a clear message and exit 1.
        let unknown = try cli.run("infer", "no-such-service", "--input", test, "--peer", nodes[1].directory)
        #expect(unknown.status == 1 && unknown.stderr.contains("no service no-such-service"), "\(unknown.stderr)")
        let bad = try cli.run("infer", "digits-joint", "--input", small, "--peer", nodes[1].directory)
        #expect(bad.status == 1 && bad.stderr.contains("safetensors has no tensor x or input"), "\(bad.stderr)")

        let status = try cli.run("task", "status", "digits-joint", "--peer", nodes[2].directory)
        try #require(status.status == 0, "\(status.stderr)")
        for line in ["kind         JointInferenceService", "deployment   version 1", "edge model   small ", "cloud model  big ",
                     "cloud peers  cloud up", "serving      edge version 1", "  requests       \((examples + 3) / 4) answered"] {
            #expect(status.stdout.contains(line), "\(line) in \(status.stdout)")
        }
        #expect(!status.stdout.contains("participants"))
        let list = try cli.run("task", "list", "--peer", nodes[0].directory)
        #expect(list.stdout.contains("JointInferenceService") && list.stdout.contains("v1"), "\(list.stdout)")
    }
}
