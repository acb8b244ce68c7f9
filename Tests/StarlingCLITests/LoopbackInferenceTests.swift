import Foundation
import StarlingLearning
import StarlingLocalAPI
import StarlingTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A JointInferenceService on real peers (docs/tasks.md, "Joint inference"): two cloud peers and
/// two edges, one edge with `--http`. The unmodified tritonclient answers the test set through it
/// (binary and JSON tensors); bad requests get clear 4xx answers; under load, `kill -9` of one
/// cloud peer leaves the other answering the hard examples, and of both leaves the edge answering
/// them itself: no request fails.
@Suite(.serialized) struct LoopbackInferenceTests {
    typealias Node = LoopbackClusterTests.Node

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Python/inference_client.py").path

    /// The test venv's Python when it has tritonclient (bootstrap/test installs it).
    static let python = PythonProcess.first(of: [ProcessInfo.processInfo.environment["STARLING_PYTHON"]],
                                            importing: "tritonclient.http, numpy")

    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        try PythonProcess.run(executable, arguments)
    }

    /// Built-in models trained here: a weaker logistic regression (a fifth of the training split)
    /// for the edge, an MLP on all of it for the cloud; and the held-out split as CSV.
    static func models(_ cli: CLIRunner) throws -> (small: String, smaller: String, big: String, test: String) {
        let (train, test) = Digits.stratifiedSplit(try Digits.load(), testFraction: 0.2, seed: 7)
        let part = Digits.stratifiedSplit(train, testFraction: 0.8, seed: 8).train
        func trained(_ kind: BuiltinWorker, _ data: LabeledData, epochs: Int, rate: Double = 0.1, name: String) throws -> String {
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
                try trained(.logreg, part, epochs: 30, rate: 0.5, name: "smaller.safetensors"),
                try trained(.mlp, train, epochs: 20, name: "big.safetensors"), testPath)
    }

    /// Peers `names` on loopback, the first `clouds` tagged tier=cloud and the others tier=edge (the
    /// one named in `http` with `--http` on that port), joined; `small` imported on peer `smallOn`,
    /// `big` on `bigOn`; `spec` submitted at `submitAt`, and served by every peer within
    /// `servingWithin` seconds. The caller stops the peers (`LoopbackClusterTests.stopAll`).
    static func servingCluster(_ cli: CLIRunner, names: [String], clouds: Int, http: (name: String, port: UInt16)? = nil,
                               small: String, smallOn: Int, big: String, bigOn: Int, submitAt: Int,
                               servingWithin: Double) throws -> [Node] {
        var nodes = try names.map { name in
            let (directory, _) = try PeerCommandTests.admittedNode(cli, name: name, roles: "peer,coordinator,submit")
            return Node(name: name, directory: directory, port: PeerCommandTests.freePort())
        }
        do {
            for index in nodes.indices {
                var arguments = ["--data-dir", nodes[index].directory, "--listen", nodes[index].address, "--bootstrap", nodes[0].address,
                                 "--tags", index < clouds ? "tier=cloud" : "tier=edge", "--log-level", "info"]
                if let http, nodes[index].name == http.name { arguments += ["--http", "127.0.0.1:\(http.port)"] }
                nodes[index].process = try PeerCommandTests.startPeer(cli, arguments, log: "\(nodes[index].directory)/peer.log")
            }
            let joined = try PeerCommandTests.wait(seconds: 15) {
                try nodes.allSatisfy { node in
                    let states = try LoopbackClusterTests.states(cli, node)
                    return states.count == names.count && Set(states.values) == ["alive"]
                }
            }
            try #require(joined, "\(names.count) peers joined")
            try #require(try cli.run("model", "import", "small", "--path", small, "--peer", nodes[smallOn].directory).status == 0)
            try #require(try cli.run("model", "import", "big", "--path", big, "--peer", nodes[bigOn].directory).status == 0)
            let specPath = cli.path("service.yaml")
            try Self.spec.write(toFile: specPath, atomically: true, encoding: .utf8)
            let submitted = try cli.run("task", "submit", specPath, "--peer", nodes[submitAt].directory)
            try #require(submitted.status == 0, "\(submitted.stderr)")
            let serving = PeerCommandTests.wait(seconds: servingWithin) {
                nodes.allSatisfy { node in
                    ((try? String(contentsOfFile: "\(node.directory)/peer.log", encoding: .utf8)) ?? "").contains("serves deployment")
                }
            }
            try #require(serving, "every peer serves the service")
            return nodes
        } catch {
            LoopbackClusterTests.stopAll(nodes)
            throw error
        }
    }

    static let spec = """
        apiVersion: edgeai.io/v1alpha1
        kind: JointInferenceService
        metadata:
          name: digits-joint
        spec:
          coordinator:
            tags:
              tier: cloud
          edgeWorker:
            model:
              name: small
            hardExampleMining:
              name: CrossEntropy
            workerSpec:
              scriptBootFile: builtin:logreg
              parameters:
                - key: cloud_timeout_ms
                  value: "400"
          cloudWorker:
            model:
              name: big
            workerSpec:
              scriptBootFile: builtin:mlp
        """

    @Test(.enabled(if: python != nil, "no STARLING_PYTHON with tritonclient[http] (bootstrap/test installs it)"))
    func aServiceAnswersThroughTritonclientAndSurvivesItsCloudPeersDying() throws {
        let python = try #require(Self.python)
        let cli = CLIRunner()
        defer { cli.remove() }
        let (small, smaller, big, test) = try Self.models(cli)
        // Two clouds and two edges; edge-a serves HTTP. Both edges and both clouds load their models.
        let httpPort = PeerCommandTests.freePort()
        let nodes = try Self.servingCluster(cli, names: ["cloud-a", "cloud-b", "edge-a", "edge-b"], clouds: 2,
                                            http: ("edge-a", httpPort), small: small, smallOn: 2, big: big, bigOn: 0,
                                            submitAt: 3, servingWithin: 30)
        defer { LoopbackClusterTests.stopAll(nodes) }

        // tritonclient: the test set in binary and JSON tensors, and the bad requests.
        let (status, output) = try Self.run(python, [Self.script, "check", "127.0.0.1:\(httpPort)", "digits-joint", test])
        try #require(status == 0, "\(output)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any], "\(output)")
        let binary = try #require(report["accuracy_binary"] as? Double), json = try #require(report["accuracy_json"] as? Double)
        #expect(binary > 0.9 && binary == json, "\(report)")
        let paths = try #require(report["paths"] as? [String: Int])
        #expect((paths["cloud"] ?? 0) > 0 && (paths["edge"] ?? 0) > (paths["cloud"] ?? 0) && paths["edge-fallback"] == nil, "\(paths)")
        let bad = try #require(report["bad"] as? [String: [String: Any]])
        let expected = ["wrong_shape": 400, "wrong_datatype": 400, "garbage_json": 400, "unknown_service": 404, "oversized": 413]
        for (name, statusCode) in expected {
            #expect(bad[name]?["status"] as? Int == statusCode, "\(name): \(String(describing: bad[name]))")
            #expect((bad[name]?["body"] as? String)?.contains("\"error\"") == true, "\(name): \(String(describing: bad[name]))")
        }

        // Under load: a new edge model at 1 s (imported again under its name: a new deployment, loaded
        // hot), kill -9 of one cloud peer at 4 s, of the other at 7 s; 10 s in all.
        let records = cli.path("load.jsonl")
        let load = Process()
        load.executableURL = URL(fileURLWithPath: python)
        load.arguments = [Self.script, "load", "127.0.0.1:\(httpPort)", "digits-joint", test, "10", records]
        load.standardOutput = FileHandle.nullDevice
        try load.run()
        usleep(1_000_000)
        let reimported = try cli.run("model", "import", "small", "--path", smaller, "--peer", nodes[2].directory)
        #expect(reimported.status == 0, "\(reimported.stderr)")
        usleep(3_000_000)
        let firstKill = Date().timeIntervalSince1970
        kill(nodes[0].process!.processIdentifier, SIGKILL)
        usleep(3_000_000)
        let secondKill = Date().timeIntervalSince1970
        kill(nodes[1].process!.processIdentifier, SIGKILL)
        load.waitUntilExit()
        let lines = try String(contentsOfFile: records, encoding: .utf8).split(separator: "\n")
        let answered = try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(answered.count > 100, "\(answered.count) requests in 8 s")
        let failed = answered.filter { $0["ok"] as? Bool != true }
        #expect(failed.isEmpty, "\(failed.count) failed: \(failed.prefix(3))")
        func window(_ from: Double, _ to: Double) -> [[String: Any]] {
            answered.filter { ($0["start"] as? Double).map { $0 >= from && $0 < to } ?? false }
        }
        let versions = answered.compactMap { $0["version"] as? Int }
        #expect(versions.first == 1 && versions.max() ?? 0 >= 2, "the new edge model is served hot: versions \(Set(versions))")
        let oneCloudLeft = window(firstKill + 1, secondKill).compactMap { $0["computed_at"] as? String }
        #expect(oneCloudLeft.contains("cloud"), "the other cloud peer answers hard examples: \(Set(oneCloudLeft))")
        let noCloud = window(secondKill + 0.5, .infinity)
        let places = Set(noCloud.compactMap { $0["computed_at"] as? String })
        #expect(places.contains("edge-fallback") && !places.contains("cloud"), "\(places)")
        let latencies = noCloud.compactMap { $0["latency"] as? Double }.sorted()
        if !latencies.isEmpty {
            let p99 = latencies[min(latencies.count - 1, Int(Double(latencies.count) * 0.99))]
            #expect(p99 < 1.5, "p99 \(p99) s after both clouds died: bounded by the 400 ms cloud deadline (plus a debug build's slack)")
        }
    }
}

/// A hostile inference worker never takes its peer down: a line that is no answer, a line past the
/// limit, or an answer to a job never given closes its connection; the worker is killed and
/// started again; requests meanwhile get a clear "unavailable" refusal; the peer answers on.
@Suite(.serialized) struct HostileInferenceWorkerTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Python/hostile_worker.py").path

    @Test(arguments: ["garbage", "flood", "unasked"])
    func aWorkerThatBreaksTheProtocolIsRestartedAndThePeerAnswersOn(_ mode: String) throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        let (directory, _) = try PeerCommandTests.admittedNode(cli, name: "solo", roles: "peer,coordinator,submit")
        var node = LoopbackClusterTests.Node(name: "solo", directory: directory, port: PeerCommandTests.freePort())
        node.process = try PeerCommandTests.startPeer(
            cli, ["--data-dir", directory, "--listen", node.address, "--log-level", "info", "--python", try TestPython.withNumpy()],
            log: "\(directory)/peer.log")
        defer { LoopbackClusterTests.stopAll([node]) }
        try #require(PeerCommandTests.wait(seconds: 10) { FileManager.default.fileExists(atPath: "\(directory)/starling.sock") })
        let model = cli.path("model.safetensors")
        let trainer = BuiltinTrainer(kind: .logreg, featureCount: 4, classCount: 2)
        try Data(SafeTensors.encode(trainer.initialWeights(seed: 1))).write(to: URL(fileURLWithPath: model))
        try #require(try cli.run("model", "import", "m", "--path", model, "--peer", directory).status == 0)
        let spec = """
            apiVersion: edgeai.io/v1alpha1
            kind: JointInferenceService
            metadata:
              name: hostile
            spec:
              edgeWorker:
                model:
                  name: m
                hardExampleMining:
                  name: EdgeOnly
                workerSpec:
                  scriptBootFile: \(Self.script)
                  parameters:
                    - key: mode
                      value: \(mode)
              cloudWorker:
                model:
                  name: m
                workerSpec:
                  scriptBootFile: builtin:logreg
            """
        let specPath = cli.path("hostile.yaml")
        try spec.write(toFile: specPath, atomically: true, encoding: .utf8)
        let submitted = try cli.run("task", "submit", specPath, "--peer", directory)
        try #require(submitted.status == 0, "\(submitted.stderr)")
        let log = "\(directory)/logs"
        let broken = PeerCommandTests.wait(seconds: 20) {
            let text = (try? FileManager.default.subpathsOfDirectory(atPath: log))?.filter { $0.hasSuffix("edge.log") }
                .compactMap { try? String(contentsOfFile: "\(log)/\($0)", encoding: .utf8) }.joined() ?? ""
            return text.components(separatedBy: "--- starting edge worker").count > 2 && text.contains("connection closed")
        }
        #expect(broken, "the worker's connection was closed and the worker started again")
        let client = LocalClient(dataDirectory: directory)
        let answer = try client.line(.infer(InferCall(service: "hostile", shape: [1, 4], data: [0, 1, 2, 3])),
                                     timeout: .seconds(10))
        do {
            let answered = try LocalClient.decode(InferAnswer.self, from: answer)
            Issue.record("a broken edge worker answered: \(answered)")
        } catch let refusal as ErrorResponse {
            #expect(refusal.code == .unavailable, "\(refusal)")
        }
        let members = try cli.run("members", "--peer", directory)
        #expect(members.status == 0 && node.process?.isRunning == true, "the peer answers on")
    }
}
