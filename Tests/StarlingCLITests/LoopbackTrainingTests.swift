import Foundation
import StarlingLearning
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Federated training on real peer processes on loopback (docs/workers.md): the seed's example
/// trains to completion through a `kill -9` of its coordinator after round 2; a worker that crashes
/// every time is reported failed while the task goes on; Python workers train through the Lib.
extension LoopbackClusterTests {
    /// What the tests read of a participant and a round in `task list --json`.
    struct TrainingTaskJSON: Decodable {
        struct Participant: Decodable {
            var worker: String
            var nodeName: String?
            var state: String?
            var message: String?
        }

        struct Round: Decodable {
            var round: UInt64
            var epoch: UInt64
            var modelHash: String
            var participants: [String]
            var metrics: [String: Double]?
        }

        var id: String
        var name: String
        var phase: String
        var coordinatorName: String?
        var epoch: UInt64?
        var round: UInt64
        var rounds: UInt64
        var announcedRound: UInt64?
        var participants: [Participant]
        var committed: [Round]
        var lastError: String?
    }

    struct TrainingTasksJSON: Decodable { var tasks: [TrainingTaskJSON] }

    static func trainingTask(_ cli: CLIRunner, _ node: Node, name: String) -> TrainingTaskJSON? {
        guard let result = try? cli.run("task", "list", "--peer", node.directory, "--json"), result.status == 0,
              let list = try? JSONDecoder().decode(TrainingTasksJSON.self, from: Data(result.stdout.utf8)) else { return nil }
        return list.tasks.first { $0.name == name }
    }

    /// Starts admitted peers named `names` (the first is the cloud: capacity 10, submit role); all
    /// may coordinate unless `coordinators` names those that may.
    /// `relativeDataDirectories`: each peer is given its data directory as a path relative to its
    /// working directory (`--data-dir cloud`), as the README does.
    static func trainingCluster(_ cli: CLIRunner, names: [String], coordinators: Set<String>? = nil,
                                relativeDataDirectories: Bool = false, extraArguments: [String] = []) throws -> [Node] {
        var nodes = try names.enumerated().map { index, name in
            let coordinates = coordinators?.contains(name) ?? true
            let (directory, _) = try PeerCommandTests.admittedNode(
                cli, name: name, roles: (coordinates ? "peer,coordinator" : "peer") + (index == 0 ? ",submit" : ""))
            return Node(name: name, directory: directory, port: PeerCommandTests.freePort())
        }
        for index in nodes.indices {
            nodes[index].process = try PeerCommandTests.startPeer(
                cli, ["--data-dir", relativeDataDirectories ? nodes[index].name : nodes[index].directory,
                      "--listen", nodes[index].address, "--bootstrap", nodes[0].address,
                      "--tags", index == 0 ? "role=cloud,capacity=10" : "role=edge", "--log-level", "info"] + extraArguments,
                log: "\(nodes[index].directory)/peer.log")
        }
        let joined = try PeerCommandTests.wait(seconds: 15) {
            try nodes.allSatisfy { node in
                let states = try Self.states(cli, node)
                return Set(states.keys) == Set(names) && states.values.allSatisfy { $0 == "alive" }
            }
        }
        try #require(joined, "\(names.count) peers joined within 15 s")
        return nodes
    }

    /// Registers a part of the digits training set as `dataset` on each node in `holders`, and
    /// waits until the first node sees them all declared.
    static func registerDigits(_ cli: CLIRunner, on holders: [Node], dataset: (Int) -> String, seeing cloud: Node) throws {
        let digits = try Digits.load()
        let parts = Digits.dirichletPartition(Digits.stratifiedSplit(digits, testFraction: 0.2, seed: 0).train,
                                              parts: holders.count, alpha: 0.5, seed: 0)
        for (index, node) in holders.enumerated() {
            let path = cli.path("digits-\(node.name).csv")
            _ = FileManager.default.createFile(atPath: path, contents: Data(DatasetFile.encodeCSV(parts[index])))
            let added = try cli.run("dataset", "add", dataset(index), "--path", path, "--peer", node.directory)
            try #require(added.status == 0, "dataset add on \(node.name): \(added.stderr)")
        }
        let declared = try PeerCommandTests.wait(seconds: 10) {
            let list = try cli.run("dataset", "list", "--json", "--peer", cloud.directory)
            let object = try? JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [String: Any]
            return ((object?["declared"] as? [Any])?.count ?? 0) >= holders.count
        }
        try #require(declared, "the datasets were declared to \(cloud.name) within 10 s")
    }

    static func describeTraining(_ cli: CLIRunner, _ nodes: [Node], name: String) -> String {
        nodes.map { node in
            guard let task = trainingTask(cli, node, name: name) else { return "\(node.name): -" }
            return "\(node.name): \(task.phase) coordinator \(task.coordinatorName ?? "-") epoch \(task.epoch.map(String.init) ?? "-") "
                + "rounds \(task.committed.map { "\($0.round)@\($0.epoch)" }) announced \(task.announcedRound.map(String.init) ?? "-") "
                + "participants \(task.participants.map { "\($0.worker)@\($0.nodeName ?? "?"):\($0.state ?? "-") \($0.message ?? "")" })"
        }.joined(separator: "\n")
    }

    @Test func theSeedExampleTrainsToTheEndThroughTheKillOfItsCoordinatorAfterRoundTwo() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        // Two peers may coordinate (the edges may not), so the coordinator killed is never a worker's peer.
        let nodes = try Self.trainingCluster(cli, names: ["cloud", "standby", "edge0", "edge1", "edge2"],
                                             coordinators: ["cloud", "standby"])
        defer { Self.stopAll(nodes) }
        try Self.registerDigits(cli, on: Array(nodes[2...]), dataset: { _ in "digits" }, seeing: nodes[0])

        // The seed's example, adapted only in its dataset name and boot file.
        var text = try String(contentsOfFile: TaskCommandTests.example("federatedtask-seed.yaml"), encoding: .utf8)
        for (from, to) in [("name: dataset0", "name: digits"), ("trainScriptBootFile : /code/main.py", "trainScriptBootFile : builtin:logreg")] {
            try #require(text.contains(from), "examples/federatedtask-seed.yaml changed: \(from)")
            text = text.replacingOccurrences(of: from, with: to)
        }
        let spec = cli.path("seed.yaml")
        try text.write(toFile: spec, atomically: true, encoding: .utf8)
        let submitted = try cli.run("task", "submit", spec, "--peer", nodes[0].directory)
        try #require(submitted.status == 0, "\(submitted.stderr)")
        let name = "example-federatedtask"

        // Two rounds committed: kill the coordinator (the cloud, by capacity). Rounds take a fraction
        // of a second here, so the kill lands after round 2 or a little later; `kept` is how many
        // the first coordinator had committed when the kill was decided.
        var victim: String?
        var kept = 0
        let afterRoundTwo = PeerCommandTests.wait(seconds: 60) {
            guard let task = Self.trainingTask(cli, nodes[0], name: name), task.committed.count >= 2 else { return false }
            victim = task.coordinatorName
            kept = task.committed.count
            return true
        }
        try #require(afterRoundTwo && victim != nil && kept < 9,
                     "2 rounds committed, and rounds left, within 60 s (\(kept)):\n\(Self.describeTraining(cli, nodes, name: name))")
        let index = try #require(nodes.firstIndex { $0.name == victim })
        kill(nodes[index].process!.processIdentifier, SIGKILL)
        nodes[index].process!.waitUntilExit()
        let survivors = nodes.enumerated().filter { $0.offset != index }.map(\.element)

        let completed = PeerCommandTests.wait(seconds: 150) {
            survivors.allSatisfy { Self.trainingTask(cli, $0, name: name)?.phase == "completed" }
        }
        try #require(completed, "completed everywhere within 150 s:\n\(Self.describeTraining(cli, survivors, name: name))")
        for node in survivors {
            let task = try #require(Self.trainingTask(cli, node, name: name))
            #expect(task.committed.map(\.round) == Array(1...10), "\(node.name): every round once: \(task.committed.map(\.round))")
            #expect(task.committed.prefix(kept).allSatisfy { $0.epoch == 1 }, "rounds 1-\(kept) kept from the first coordinator")
            // The round in flight at the kill may have been committed by the first coordinator just
            // before it died (and replicated); every round after it comes under a later epoch.
            #expect(task.committed.dropFirst(kept + 1).allSatisfy { $0.epoch >= 2 }, "rounds \(kept + 2)-10 under a later epoch")
            #expect(task.committed.contains { $0.epoch >= 2 }, "a later coordinator committed rounds")
            #expect(task.committed.allSatisfy { $0.participants == ["work0", "work1", "work2"] && $0.modelHash != String(repeating: "0", count: 64) })
            #expect(task.committed.last?.metrics?["loss"] != nil, "the commit carries the workers' loss")
        }
        // The final model is held by a survivor and exports as a readable safetensors file.
        let out = cli.path("final.safetensors")
        let exported = survivors.contains { node in
            (try? cli.run("model", "export", name, "--out", out, "--peer", node.directory))?.status == 0
        }
        #expect(exported, "a survivor exports the final model")
        if exported {
            let weights = try SafeTensors.decode([UInt8](try Data(contentsOf: URL(fileURLWithPath: out))))
            #expect(weights.metadata["starling.round"] == "10")
        }
        // Workers write logs, and the edge peers' workers stopped with the task.
        let logs = try cli.run("task", "logs", name, "--peer", nodes[2].directory)
        #expect(logs.status == 0 && logs.stdout.contains("round 10: training loss"), "\(logs.stdout.suffix(400))")
        #expect(PeerCommandTests.wait(seconds: 10) { Self.workerProcesses(of: cli).isEmpty }, "workers stop with their task")
    }

    /// Processes started as workers by this test's peers (their environment names a socket under the
    /// test's directory).
    static func workerProcesses(of cli: CLIRunner) -> [Int32] {
        let needle = Array("STARLING_SOCKET=\(cli.directory)".utf8)
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> Int32? in
            guard let pid = Int32(entry), let environment = FileManager.default.contents(atPath: "/proc/\(entry)/environ") else { return nil }
            let bytes = [UInt8](environment)
            guard bytes.count >= needle.count else { return nil }
            for start in 0...(bytes.count - needle.count) where bytes[start] == needle[0] {
                if Array(bytes[start..<(start + needle.count)]) == needle { return pid }
            }
            return nil
        }
    }

    @Test func workersDieWithTheirPeerEvenAfterKillNine() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        let nodes = try Self.trainingCluster(cli, names: ["cloud", "edge-a"])
        defer { Self.stopAll(nodes) }
        try Self.registerDigits(cli, on: [nodes[1]], dataset: { _ in "digits" }, seeing: nodes[0])
        let spec = cli.path("long.yaml")
        try """
            apiVersion: edgeai.io/v1alpha1
            kind: FederatedTask
            metadata: {name: long}
            spec:
              rounds: 1000
              trainingWorkers:
                - name: only
                  workerSpec:
                    dataset: {name: digits}
                    trainScriptBootFile: builtin:logreg
                    parameters: [{key: num_classes, value: 10}]
            """.write(toFile: spec, atomically: true, encoding: .utf8)
        #expect(try cli.run("task", "submit", spec, "--peer", nodes[0].directory).status == 0)
        let running = PeerCommandTests.wait(seconds: 30) { !Self.workerProcesses(of: cli).isEmpty }
        try #require(running, "the worker started")
        kill(nodes[1].process!.processIdentifier, SIGKILL)
        nodes[1].process!.waitUntilExit()
        #expect(PeerCommandTests.wait(seconds: 10) { Self.workerProcesses(of: cli).isEmpty },
                "the worker of a peer killed with -9 is gone: \(Self.workerProcesses(of: cli))")
    }

    @Test func aWorkerThatAlwaysCrashesIsReportedFailedWhileTheTaskGoesOn() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        let nodes = try Self.trainingCluster(cli, names: ["cloud", "edge-a", "edge-b", "edge-c"])
        defer { Self.stopAll(nodes) }
        try Self.registerDigits(cli, on: Array(nodes[1...]), dataset: { "digits-\($0)" }, seeing: nodes[0])
        let crasher = cli.path("crash.sh")
        try "#!/bin/sh\necho \"boom: no accelerator on this peer\" >&2\nexit 1\n".write(toFile: crasher, atomically: true, encoding: .utf8)
        chmod(crasher, 0o755)
        let spec = cli.path("crash.yaml")
        try """
            apiVersion: edgeai.io/v1alpha1
            kind: FederatedTask
            metadata: {name: crashing}
            spec:
              rounds: 1000
              minNodeNumber: 2
              roundTimeout: 60s
              trainingWorkers:
                - name: good-a
                  workerSpec:
                    dataset: {name: digits-0}
                    trainScriptBootFile: builtin:logreg
                    parameters: [{key: num_classes, value: 10}, {key: learning_rate, value: 0.5}]
                - name: good-b
                  workerSpec: {dataset: {name: digits-1}}
                - name: bad
                  workerSpec:
                    dataset: {name: digits-2}
                    trainScriptBootFile: \(crasher)
            """.write(toFile: spec, atomically: true, encoding: .utf8)
        let submitted = try cli.run("task", "submit", spec, "--peer", nodes[0].directory)
        try #require(submitted.status == 0, "\(submitted.stderr)")
        // Started, then restarted after 1, 2 and 4 s: about 7 s until it is given up; the rounds go
        // on without it meanwhile, and every later round fails it at once. Then the task is
        // cancelled (1,000 rounds would take minutes).
        var givenUpAt = 0
        let givenUp = PeerCommandTests.wait(seconds: 60) {
            guard let task = Self.trainingTask(cli, nodes[0], name: "crashing"), task.lastError?.contains("not restarted") == true
            else { return false }
            givenUpAt = task.committed.count
            return true
        }
        try #require(givenUp, "the bad worker given up within 60 s:\n\(Self.describeTraining(cli, nodes, name: "crashing"))")
        #expect(PeerCommandTests.wait(seconds: 30) {
            (Self.trainingTask(cli, nodes[0], name: "crashing")?.committed.count ?? 0) >= givenUpAt + 3
        }, "rounds go on after the worker is given up")
        #expect(try cli.run("task", "cancel", "crashing", "--peer", nodes[0].directory).status == 0)
        let task = try #require(Self.trainingTask(cli, nodes[0], name: "crashing"))
        let rounds = task.committed.map(\.round)
        #expect(rounds.first == 1 && zip(rounds, rounds.dropFirst()).allSatisfy { $1 == $0 + 1 }, "every round once: \(rounds)")
        #expect(task.committed.allSatisfy { $0.participants == ["good-a", "good-b"] })
        let error = task.lastError ?? "-"
        #expect(error.hasPrefix("bad: ") && error.contains("boom: no accelerator on this peer") && error.contains("not restarted"), "\(error)")
        let logs = try cli.run("task", "logs", "crashing", "--worker", "bad", "--peer", nodes[3].directory)
        #expect(logs.stdout.components(separatedBy: "--- starting worker bad").count - 1 == 4, "started once and restarted 3 times: \(logs.stdout)")
    }

    @Test func pythonWorkersTrainThroughTheLib() throws {
        let python = try TestPython.withNumpy()
        let cli = CLIRunner()
        defer { cli.remove() }
        let nodes = try Self.trainingCluster(cli, names: ["cloud", "edge-a", "edge-b"])
        defer { Self.stopAll(nodes) }
        try Self.registerDigits(cli, on: Array(nodes[1...]), dataset: { "digits-\($0)" }, seeing: nodes[0])
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let libPath = repository.appendingPathComponent("python").path
        let workers = repository.appendingPathComponent("examples/workers").path
        // The boot file runs the example with the Lib from the repository on PYTHONPATH, then a
        // line of code after it: it runs once the example's rounds loop returned at "done".
        let wrapper = cli.path("python-with-lib")
        let afterLoop = cli.path("after_loop.py")
        try "import runpy\nrunpy.run_path('numpy_logreg.py', run_name='__main__')\nprint('after the rounds loop', flush=True)\n"
            .write(toFile: afterLoop, atomically: true, encoding: .utf8)
        let spec = cli.path("python.yaml")
        try """
            apiVersion: edgeai.io/v1alpha1
            kind: FederatedTask
            metadata: {name: python-digits}
            spec:
              rounds: 3
              minNodeNumber: 2
              roundTimeout: 60s
              trainingWorkers:
                - name: py-a
                  workerSpec:
                    dataset: {name: digits-0}
                    trainScriptDir: \(workers)
                    trainScriptBootFile: \(wrapper)
                    parameters: [{key: learning_rate, value: 0.5}, {key: epochs, value: 2}]
                - name: py-b
                  workerSpec: {dataset: {name: digits-1}}
            """.write(toFile: spec, atomically: true, encoding: .utf8)
        try "#!/bin/sh\nPYTHONPATH=\(libPath) exec \(python) \(afterLoop)\n".write(toFile: wrapper, atomically: true, encoding: .utf8)
        chmod(wrapper, 0o755)
        let submitted = try cli.run("task", "submit", spec, "--peer", nodes[0].directory)
        try #require(submitted.status == 0, "\(submitted.stderr)")
        let done = PeerCommandTests.wait(seconds: 90) { Self.trainingTask(cli, nodes[0], name: "python-digits")?.phase == "completed" }
        let logs = (try? cli.run("task", "logs", "python-digits", "--peer", nodes[1].directory).stdout) ?? ""
        try #require(done, "completed within 90 s:\n\(Self.describeTraining(cli, nodes, name: "python-digits"))\n\(logs)")
        let task = try #require(Self.trainingTask(cli, nodes[0], name: "python-digits"))
        #expect(task.committed.map(\.round) == [1, 2, 3])
        #expect(task.committed.allSatisfy { $0.participants == ["py-a", "py-b"] })
        #expect(task.committed.last?.metrics?["accuracy"].map { $0 > 0.5 } == true, "\(task.committed.last?.metrics ?? [:])")
        // Told "done" at completion, each worker ran the code after its loop and exited by itself.
        for node in nodes[1...] {
            let finished = PeerCommandTests.wait(seconds: 10) {
                Self.logs(cli, node, task: "python-digits").contains("after the rounds loop\n--- worker")
            }
            let text = Self.logs(cli, node, task: "python-digits")
            #expect(finished && text.contains("after the rounds loop\n--- worker py-") && text.contains("exited with status 0"), "\(text)")
            #expect(!text.contains("killed by signal"), "\(text)")
        }
    }
}
