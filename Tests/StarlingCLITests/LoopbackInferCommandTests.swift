import Foundation
import StarlingLearning
import StarlingLocalAPI
import StarlingWorker
import Testing

/// `starling infer` and `task status` on real peers: a cloud peer (tier=cloud) and two edges
/// serve a JointInferenceService of built-in models trained here on the embedded digits; the
/// held-out split as CSV is answered in full through one edge's local API (docs/cli.md, "infer").
@Suite(.serialized) struct LoopbackInferCommandTests {
    @Test func inferAnswersEveryExampleOfATestSetAndTaskStatusShowsTheService() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        // Models as LoopbackInferenceTests makes them: a logistic regression on a fifth of the
        // training split for the edges, an MLP on all of it for the cloud; the held-out split as CSV.
        let (small, _, big, test) = try LoopbackInferenceTests.models(cli)
        let nodes = try LoopbackInferenceTests.servingCluster(cli, names: ["cloud", "edge-a", "edge-b"], clouds: 1, small: small,
                                                              smallOn: 1, big: big, bigOn: 0, submitAt: 2, servingWithin: 20)
        defer { LoopbackClusterTests.stopAll(nodes) }

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
