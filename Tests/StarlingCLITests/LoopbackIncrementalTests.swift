import Foundation
import StarlingLearning
import StarlingLocalAPI
import Testing

/// IncrementalLearningJobs on real peers (docs/tasks.md, "How a job runs"): the initial model knows
/// only the digits 0-4; labelled digits of every class arrive at an edge (`starling dataset
/// append`); the job trains, evaluates and deploys the better model hot, serves it under its name,
/// follows a rollback, completes a cycle whose deploy condition fails as "not deployed", resumes a
/// cycle after `kill -9` of the peer running its eval stage, and keeps cycling with the cloud gone.
@Suite(.serialized) struct LoopbackIncrementalTests {
    typealias Node = LoopbackClusterTests.Node

    /// The data: an initial model trained on digits 0-4 (10 outputs), a base dataset of 60 rows of
    /// them, two batches of 700 rows of every digit, the held-out split.
    struct Data {
        let initial: String
        let base: String
        let batches: [String]
        let narrow: String
        let test: String
    }

    static func data(_ cli: CLIRunner) throws -> Data {
        let (train, test) = Digits.stratifiedSplit(try Digits.load(), testFraction: 0.2, seed: 5)
        func rows(_ indexes: [Int]) throws -> LabeledData {
            try LabeledData(features: indexes.flatMap { train.features[($0 * train.featureCount)..<(($0 + 1) * train.featureCount)] },
                            labels: indexes.map { train.labels[$0] }, featureCount: train.featureCount, classCount: 10)
        }
        let low = (0..<train.count).filter { train.labels[$0] < 5 }
        let trainer = BuiltinTrainer(kind: .logreg, featureCount: train.featureCount, classCount: 10)
        let initial = try trainer.train(trainer.initialWeights(seed: 1), on: try rows(low), epochs: 20, batchSize: 32,
                                        learningRate: 0.5, proximalMu: 0, seed: 2).weights
        func write(_ bytes: [UInt8], _ name: String) throws -> String {
            let path = cli.path(name)
            try Foundation.Data(bytes).write(to: URL(fileURLWithPath: path))
            return path
        }
        let narrowRows = try String(contentsOfFile: try write(DatasetFile.encodeCSV(try rows(Array(0..<5))), "five.csv"), encoding: .utf8)
            .split(separator: "\n").map { $0.split(separator: ",").dropFirst().joined(separator: ",") }.joined(separator: "\n")
        return Data(initial: try write(SafeTensors.encode(initial), "initial.safetensors"),
                    base: try write(DatasetFile.encodeCSV(try rows(Array(low.prefix(60)))), "base.csv"),
                    batches: [try write(DatasetFile.encodeCSV(try rows(Array(60..<760))), "batch-1.csv"),
                              try write(DatasetFile.encodeCSV(try rows(Array(760..<1_400))), "batch-2.csv")],
                    narrow: try write(Array((narrowRows + "\n").utf8), "narrow.csv"),
                    test: try write(DatasetFile.encodeCSV(test), "test.csv"))
    }

    /// A job on dataset `incoming` from the model `initial`: train on more than 300 new training
    /// rows, deploy when `metric > threshold`; `evalBoot` is the eval worker's boot file.
    static func spec(_ name: String, threshold: Double = 0, evalBoot: String = "builtin:logreg") -> String {
        """
        apiVersion: edgeai.io/v1alpha1
        kind: IncrementalLearningJob
        metadata:
          name: \(name)
        spec:
          initialModel: {name: initial}
          dataset: {name: incoming, trainProb: 0.8}
          trainSpec:
            workerSpec:
              scriptBootFile: builtin:logreg
              parameters:
                - {key: epochs, value: "20"}
                - {key: learning_rate, value: "0.5"}
            trigger:
              checkPeriodSeconds: 2
              condition: {operator: gt, threshold: 300, metric: num_of_samples}
          evalSpec:
            workerSpec: {scriptBootFile: "\(evalBoot)"}
          deploySpec:
            model: {name: \(name)-model, hotUpdateEnabled: true}
            workerSpec: {scriptBootFile: builtin:logreg}
            trigger:
              checkPeriodSeconds: 1
              condition: {operator: ">", threshold: \(threshold), metric: accuracy_delta}

        """
    }

    /// Peers `names` on loopback, joined (the first tagged tier=cloud); every peer may coordinate.
    static func cluster(_ cli: CLIRunner, names: [String]) throws -> [Node] {
        var nodes = try names.map { name in
            let (directory, _) = try PeerCommandTests.admittedNode(cli, name: name, roles: "peer,coordinator,submit")
            return Node(name: name, directory: directory, port: PeerCommandTests.freePort())
        }
        for index in nodes.indices { nodes[index].process = try start(cli, nodes[index], bootstrap: nodes[0], cloud: index == 0) }
        let joined = try PeerCommandTests.wait(seconds: 15) {
            try nodes.allSatisfy { node in
                let states = try LoopbackClusterTests.states(cli, node)
                return states.count == names.count && Set(states.values) == ["alive"]
            }
        }
        if !joined { LoopbackClusterTests.stopAll(nodes) }
        try #require(joined, "\(names.count) peers joined")
        return nodes
    }

    static func start(_ cli: CLIRunner, _ node: Node, bootstrap: Node, cloud: Bool, log: String = "peer.log") throws -> Process {
        var arguments = ["--data-dir", node.directory, "--listen", node.address, "--tags", cloud ? "tier=cloud" : "tier=edge",
                         "--log-level", "info"]
        if node.address != bootstrap.address { arguments += ["--bootstrap", bootstrap.address] }
        return try PeerCommandTests.startPeer(cli, arguments, log: "\(node.directory)/\(log)")
    }

    static func submit(_ cli: CLIRunner, _ yaml: String, name: String, at node: Node) throws {
        let path = cli.path("\(name).yaml")
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let submitted = try cli.run("task", "submit", path, "--peer", node.directory)
        try #require(submitted.status == 0, "\(submitted.stderr)")
    }

    /// The job as `node` reports it (`task list --json`).
    static func job(_ cli: CLIRunner, _ name: String, at node: Node) -> JobReport? {
        guard let listed = try? cli.run("task", "list", "--json", "--peer", node.directory), listed.status == 0,
              let tasks = try? JSONDecoder().decode(TasksResponse.self, from: Foundation.Data(listed.stdout.utf8)) else { return nil }
        return tasks.tasks.first { $0.name == name }?.job
    }

    static func accuracy(_ cli: CLIRunner, _ job: String, test: String, at node: Node) throws -> (accuracy: Double, versions: [Int]) {
        let answered = try cli.run("infer", job, "--input", test, "--peer", node.directory, "--json", "--batch", "32")
        try #require(answered.status == 0, "\(answered.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Foundation.Data(answered.stdout.utf8)) as? [String: Any])
        return (try #require(report["accuracy"] as? Double), (report["edge_versions"] as? [Int]) ?? [])
    }

    static func logs(_ nodes: [Node]) -> String {
        nodes.map { node in
            "== \(node.name)\n" + ((try? String(contentsOfFile: "\(node.directory)/peer.log", encoding: .utf8)) ?? "").suffix(4_000)
        }.joined(separator: "\n")
    }

    @Test func aJobDeploysABetterModelOnAppendedDataAndFollowsARollback() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        let data = try Self.data(cli)
        let nodes = try Self.cluster(cli, names: ["cloud", "edge"])
        defer { LoopbackClusterTests.stopAll(nodes) }
        let edge = nodes[1]
        try #require(try cli.run("model", "import", "initial", "--path", data.initial, "--peer", edge.directory).status == 0)
        try #require(try cli.run("dataset", "add", "incoming", "--path", data.base, "--peer", edge.directory).status == 0)
        try Self.submit(cli, Self.spec("learn"), name: "learn", at: nodes[0])
        try Self.submit(cli, Self.spec("strict", threshold: 0.99), name: "strict", at: nodes[0])

        // Version 1 serves at the edge at once; 60 rows are not more than 300 new ones: nothing trains.
        let serving = PeerCommandTests.wait(seconds: 20) { Self.job(cli, "learn", at: edge)?.servedVersion == 1 }
        try #require(serving, "version 1 serves: \(String(describing: Self.job(cli, "learn", at: edge)))\n\(Self.logs(nodes))")
        let before = try Self.accuracy(cli, "learn", test: data.test, at: edge)
        #expect(before.accuracy < 0.6 && before.versions == [1], "the initial model knows half the digits: \(before)")

        // Bad input changes nothing: another width.
        let refused = try cli.run("dataset", "append", "incoming", "--path", data.narrow, "--peer", edge.directory)
        #expect(refused.status != 0 && refused.stderr.contains("has 64 features"), "\(refused.stderr)")
        Thread.sleep(forTimeInterval: 3)
        #expect(Self.job(cli, "learn", at: nodes[0])?.history.count == 1, "nothing trained")

        // Labelled digits of every class arrive: the job trains, evaluates and deploys version 2.
        try #require(try cli.run("dataset", "append", "incoming", "--path", data.batches[0], "--peer", edge.directory).status == 0)
        let deployed = PeerCommandTests.wait(seconds: 60) { Self.job(cli, "learn", at: edge)?.servedVersion == 2 }
        try #require(deployed, "version 2 serves: \(String(describing: Self.job(cli, "learn", at: edge)?.history))\n\(Self.logs(nodes))")
        let job = try #require(Self.job(cli, "learn", at: nodes[0]))
        #expect(job.history.map { "\($0.stage)/\($0.status)" }
            == ["deploy/completed", "train/running", "eval/running", "deploy/waiting", "deploy/completed"], "\(job.history)")
        let second = try #require(job.versions.last)
        #expect(second.version == 2 && second.parent == 1 && second.cycle == 1 && second.trainSamples > 400, "\(second)")
        #expect((second.metrics?["accuracy_delta"] ?? 0) > 0.2, "\(String(describing: second.metrics))")
        let after = try Self.accuracy(cli, "learn", test: data.test, at: edge)
        #expect(after.accuracy > 0.85 && after.versions == [2], "\(after)")

        // The strict job trained and evaluated the same data, and did not deploy.
        let notDeployed = PeerCommandTests.wait(seconds: 30) {
            Self.job(cli, "strict", at: nodes[0])?.history.last?.text.contains("not deployed") == true
        }
        let strict = Self.job(cli, "strict", at: nodes[0])
        #expect(notDeployed, "\(String(describing: strict?.history))")
        #expect(strict?.versions.count == 1 && strict?.history.last?.text.contains("not accuracy_delta > 0.99") == true)

        // model versions, then a rollback the edge follows.
        let versions = try cli.run("model", "versions", "learn-model", "--peer", edge.directory)
        #expect(versions.status == 0 && versions.stdout.contains("2 versions, version 2 serving"), "\(versions.stdout)")
        let rollback = try cli.run("model", "rollback", "learn", "--peer", edge.directory)
        #expect(rollback.status == 0 && rollback.stdout.contains("rollback from version 2 to 1 requested"), "\(rollback.stdout)")
        let followed = PeerCommandTests.wait(seconds: 20) {
            Self.job(cli, "learn", at: edge).map { $0.currentVersion == 1 && $0.servedVersion == 1 } ?? false
        }
        #expect(followed, "\(String(describing: Self.job(cli, "learn", at: edge)))")
        let rolledBack = try Self.accuracy(cli, "learn", test: data.test, at: edge)
        #expect(rolledBack.versions == [1] && abs(rolledBack.accuracy - before.accuracy) < 1e-9, "\(rolledBack)")
        let unknown = try cli.run("model", "rollback", "learn", "--to", "7", "--peer", edge.directory)
        #expect(unknown.status == 1 && unknown.stderr.contains("no version 7"), "\(unknown.stderr)")
    }

    @Test func aCycleResumesAfterKillMinusNineOfItsEvaluatingPeerAndGoesOnWithTheCloudGone() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        let data = try Self.data(cli)
        // An evaluation worker slow enough to be killed in the middle: it waits 4 s, then evaluates.
        let slowEval = cli.path("slow-eval.sh")
        try "#!/bin/sh\nsleep 4\nexec '\(CLIRunner.executable.path)' worker builtin logreg\n".write(toFile: slowEval, atomically: true, encoding: .utf8)
        chmod(slowEval, 0o755)
        var nodes = try Self.cluster(cli, names: ["cloud", "edge-a", "edge-b"])
        defer { LoopbackClusterTests.stopAll(nodes) }
        try #require(try cli.run("model", "import", "initial", "--path", data.initial, "--peer", nodes[1].directory).status == 0)
        try #require(try cli.run("dataset", "add", "incoming", "--path", data.base, "--peer", nodes[1].directory).status == 0)
        try Self.submit(cli, Self.spec("learn", evalBoot: slowEval), name: "learn", at: nodes[2])
        try #require(PeerCommandTests.wait(seconds: 20) { Self.job(cli, "learn", at: nodes[1])?.servedVersion == 1 })

        // kill -9 of edge-a while it evaluates, and a restart: it evaluates again; one deploy.
        try #require(try cli.run("dataset", "append", "incoming", "--path", data.batches[0], "--peer", nodes[1].directory).status == 0)
        let evaluating = PeerCommandTests.wait(seconds: 40) {
            Self.job(cli, "learn", at: nodes[2])?.history.last.map { $0.stage == "eval" && $0.status == "running" } ?? false
        }
        try #require(evaluating, "\(String(describing: Self.job(cli, "learn", at: nodes[2])?.history))\n\(Self.logs(nodes))")
        Thread.sleep(forTimeInterval: 1)
        kill(nodes[1].process!.processIdentifier, SIGKILL)
        nodes[1].process!.waitUntilExit()
        #expect(Self.job(cli, "learn", at: nodes[2])?.history.last?.stage == "eval", "killed mid-eval")
        nodes[1].process = try Self.start(cli, nodes[1], bootstrap: nodes[0], cloud: false, log: "peer-2.log")
        let resumed = PeerCommandTests.wait(seconds: 60) { Self.job(cli, "learn", at: nodes[1])?.servedVersion == 2 }
        try #require(resumed, "\(String(describing: Self.job(cli, "learn", at: nodes[2])?.history))\n\(Self.logs(nodes))")
        let history = try #require(Self.job(cli, "learn", at: nodes[2])?.history)
        #expect(history.filter { $0.text.hasPrefix("deployed version") }.count == 2, "version 1, then the candidate once: \(history)")
        #expect(history.filter { $0.stage == "eval" && $0.status == "running" }.count == 1, "the eval step stood: \(history)")

        // The cloud goes for good; more data arrives: the edges coordinate the next cycle themselves.
        kill(nodes[0].process!.processIdentifier, SIGKILL)
        nodes[0].process!.waitUntilExit()
        try #require(try cli.run("dataset", "append", "incoming", "--path", data.batches[1], "--peer", nodes[1].directory).status == 0)
        let cycled = PeerCommandTests.wait(seconds: 90) {
            guard let job = Self.job(cli, "learn", at: nodes[2]) else { return false }
            return job.cycle == 3 && job.stage == "train" && job.status == "waiting"
        }
        let job = Self.job(cli, "learn", at: nodes[2])
        #expect(cycled, "\(String(describing: job?.history))\n\(Self.logs(Array(nodes.dropFirst())))")
        let status = try cli.run("task", "status", "learn", "--peer", nodes[2].directory)
        #expect(status.stdout.contains("coordinator  edge-"), "\(status.stdout)")
    }
}
