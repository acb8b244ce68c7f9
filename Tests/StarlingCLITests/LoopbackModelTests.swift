import Foundation
import StarlingLearning
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `starling model import|export` on real peer processes (docs/cli.md, "model").
extension LoopbackClusterTests {
    /// The tags `members --json` on `node` shows for the member `name`.
    static func tags(_ cli: CLIRunner, _ node: Node, of name: String) -> [String: String] {
        guard let result = try? cli.run("members", "--peer", node.directory, "--json"), result.status == 0,
              let object = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
              let members = object["members"] as? [[String: Any]],
              let member = members.first(where: { $0["name"] as? String == name }) else { return [:] }
        return member["tags"] as? [String: String] ?? [:]
    }

    /// Defect 7: a participant holds the rounds it trained from, not the last commit. Its export
    /// fetches the last commit, or fails naming the round it holds and the one the task committed;
    /// it never writes an older round in silence.
    @Test func anExportFromAPeerThatMissedTheEndFetchesTheLastCommitOrSaysWhatItHolds() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        // Only the cloud coordinates: the edges never hold a commit they did not train from.
        var nodes = try Self.trainingCluster(cli, names: ["cloud", "edge-a", "edge-b"], coordinators: ["cloud"])
        defer { Self.stopAll(nodes) }
        try Self.registerDigits(cli, on: Array(nodes[1...]), dataset: { "digits-\($0)" }, seeing: nodes[0])

        // An imported starting model is declared in the peer's gossiped tags.
        let start = cli.path("start.safetensors")
        try Data(SafeTensors.encode(try ModelWeights(tensors: [Tensor(name: "w", shape: [2], values: [0.5, -1])]))).write(to: URL(fileURLWithPath: start))
        let imported = try cli.run("model", "import", "digits-start", "--path", start, "--peer", nodes[1].directory)
        try #require(imported.status == 0, "\(imported.stderr)")
        let hash = try #require(imported.stdout.split(separator: " ").dropFirst(3).first.map { String($0.dropLast()) })
        let declared = PeerCommandTests.wait(seconds: 10) {
            Self.tags(cli, nodes[0], of: "edge-a")["model.digits-start"]?.hasPrefix(hash) == true
        }
        #expect(declared, "the cloud sees edge-a declare model.digits-start: \(Self.tags(cli, nodes[0], of: "edge-a")) (\(imported.stdout))")
        let listed = try cli.run("model", "list", "--peer", nodes[1].directory)
        #expect(listed.stdout.contains("\(hash)  digits-start  imported  2 parameters"), "\(listed.stdout)")
        let bad = try ModelWeights(tensors: [Tensor(name: "w", shape: [2], values: [0.5, .infinity])])
        let badPath = cli.path("bad.safetensors")
        try Data(SafeTensors.encode(bad)).write(to: URL(fileURLWithPath: badPath))
        let refused = try cli.run("model", "import", "broken", "--path", badPath, "--peer", nodes[1].directory)
        #expect(refused.status != 0 && refused.stderr.contains("\(badPath): not a usable safetensors model: tensor w holds inf"),
                "\(refused.stderr)")

        let spec = cli.path("three.yaml")
        try """
            apiVersion: edgeai.io/v1alpha1
            kind: FederatedTask
            metadata: {name: three}
            spec:
              rounds: 3
              trainingWorkers:
                - name: work-a
                  workerSpec:
                    dataset: {name: digits-0}
                    trainScriptBootFile: builtin:logreg
                    parameters: [{key: num_classes, value: 10}]
                - name: work-b
                  workerSpec: {dataset: {name: digits-1}}
            """.write(toFile: spec, atomically: true, encoding: .utf8)
        let submitted = try cli.run("task", "submit", spec, "--peer", nodes[0].directory)
        try #require(submitted.status == 0, "\(submitted.stderr)")
        let completed = PeerCommandTests.wait(seconds: 60) {
            nodes.allSatisfy { Self.trainingTask(cli, $0, name: "three")?.phase == "completed" }
        }
        try #require(completed, "completed within 60 s:\n\(Self.describeTraining(cli, nodes, name: "three"))")

        // edge-a trained rounds 1-3 from the models of rounds 0-2: it fetches round 3 from the cloud.
        let out = cli.path("final.safetensors")
        let exported = try cli.run("model", "export", "three", "--out", out, "--peer", nodes[1].directory)
        #expect(exported.status == 0, "\(exported.stderr)")
        #expect(exported.stdout == "model of three round 3 of 3, the last (the task completed) written to \(out) "
            + "(fetched from cloud: this peer held round 2)", "\(exported.stdout)")
        let weights = try SafeTensors.decode([UInt8](try Data(contentsOf: URL(fileURLWithPath: out))))
        #expect(weights.metadata["starling.round"] == "3")

        // With the cloud gone, edge-b cannot get round 3 (edge-a is no holder it knows of): it says
        // so, and writes nothing.
        kill(nodes[0].process!.processIdentifier, SIGKILL)
        nodes[0].process!.waitUntilExit()
        nodes[0].process = nil
        let other = cli.path("other.safetensors")
        let failed = try cli.run("model", "export", "three", "--out", other, "--peer", nodes[2].directory)
        #expect(failed.status != 0)
        #expect(failed.stderr.contains("model export: this peer holds round 2 of task three, but the task committed round 3 of 3"),
                "\(failed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: other))
    }
}
