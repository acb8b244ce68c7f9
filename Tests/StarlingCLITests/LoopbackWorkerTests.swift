import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// How a peer starts and stops its workers (docs/workers.md), on one real peer on loopback: the
/// peer is coordinator, dataset holder and worker host at once, so each test takes a few seconds.
extension LoopbackClusterTests {
    /// One peer named `solo` holding the digits training set as `digits`.
    static func soloPeer(_ cli: CLIRunner, relativeDataDirectory: Bool = false, extraArguments: [String] = []) throws -> Node {
        let nodes = try trainingCluster(cli, names: ["solo"], relativeDataDirectories: relativeDataDirectory,
                                        extraArguments: extraArguments)
        do {
            try registerDigits(cli, on: nodes, dataset: { _ in "digits" }, seeing: nodes[0])
        } catch {
            stopAll(nodes)
            throw error
        }
        return nodes[0]
    }

    /// A task of `rounds` rounds with one training worker `only` on `digits`.
    static func soloTask(_ cli: CLIRunner, name: String, rounds: Int, directory: String?, bootFile: String) throws -> String {
        let spec = cli.path("\(name).yaml")
        try """
            apiVersion: edgeai.io/v1alpha1
            kind: FederatedTask
            metadata: {name: \(name)}
            spec:
              rounds: \(rounds)
              roundTimeout: 60s
              trainingWorkers:
                - name: only
                  workerSpec:
                    dataset: {name: digits}
            \(directory.map { "        trainScriptDir: \($0)\n" } ?? "")\
                    trainScriptBootFile: \(bootFile)
                    parameters: [{key: num_classes, value: 10}]
            """.write(toFile: spec, atomically: true, encoding: .utf8)
        return spec
    }

    static func logs(_ cli: CLIRunner, _ node: Node, task: String) -> String {
        (try? cli.run("task", "logs", task, "--peer", node.directory).stdout) ?? ""
    }

    @Test func aRelativeDataDirectoryReachesWorkersRunningInTheirScriptDirectory() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        // `--data-dir solo`, as the README's tour writes it; the worker runs in another directory,
        // from a boot file given relative to it.
        let node = try Self.soloPeer(cli, relativeDataDirectory: true)
        defer { Self.stopAll([node]) }
        let scripts = cli.path("scripts")
        try FileManager.default.createDirectory(atPath: scripts, withIntermediateDirectories: true)
        let worker = "\(scripts)/worker.sh"
        try "#!/bin/sh\nexec '\(CLIRunner.executable.path)' worker builtin logreg\n".write(toFile: worker, atomically: true, encoding: .utf8)
        chmod(worker, 0o755)
        let spec = try Self.soloTask(cli, name: "relative", rounds: 2, directory: scripts, bootFile: "worker.sh")
        let submitted = try cli.run("task", "submit", spec, "--peer", node.directory)
        try #require(submitted.status == 0, "\(submitted.stderr)")
        let done = PeerCommandTests.wait(seconds: 30) { Self.trainingTask(cli, node, name: "relative")?.phase == "completed" }
        let logs = Self.logs(cli, node, task: "relative")
        #expect(done, "completed within 30 s:\n\(Self.describeTraining(cli, [node], name: "relative"))\n\(logs)")
        #expect(logs.contains("round 2: training loss"), "\(logs)")
        #expect(logs.contains("--- starting worker only for round 1: \(CLIRunner.executable.path) exec-worker -- \(worker)"), "\(logs)")
    }

    @Test func aWorkerRunsItsCodeAfterTheRoundsLoopWhenItsTaskCompletes() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        let node = try Self.soloPeer(cli)
        defer { Self.stopAll([node]) }
        let spec = try Self.soloTask(cli, name: "finishing", rounds: 2, directory: nil, bootFile: "builtin:logreg")
        let submitted = try cli.run("task", "submit", spec, "--peer", node.directory)
        try #require(submitted.status == 0, "\(submitted.stderr)")
        let done = PeerCommandTests.wait(seconds: 30) { Self.trainingTask(cli, node, name: "finishing")?.phase == "completed" }
        try #require(done, "completed within 30 s:\n\(Self.describeTraining(cli, [node], name: "finishing"))")
        // The built-in worker prints "task done" after its rounds loop (which returns at "done",
        // once the task completed), then exits by itself: no SIGTERM.
        let exited = PeerCommandTests.wait(seconds: 10) { Self.logs(cli, node, task: "finishing").contains("--- worker only exited") }
        let logs = Self.logs(cli, node, task: "finishing")
        #expect(exited, "\(logs)")
        #expect(logs.contains("round 2: training loss"), "\(logs)")
        #expect(logs.contains("task done\n--- worker only exited with status 0"), "\(logs)")
        #expect(!logs.contains("killed by signal"), "\(logs)")
        #expect(PeerCommandTests.wait(seconds: 5) { Self.workerProcesses(of: cli).isEmpty }, "the worker is gone")
    }

    @Test func aStoppingPeerDoesNotWaitForItsWorkers() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        var node = try Self.soloPeer(cli)
        defer { Self.stopAll([node]) }
        let spec = try Self.soloTask(cli, name: "long", rounds: 1000, directory: nil, bootFile: "builtin:logreg")
        #expect(try cli.run("task", "submit", spec, "--peer", node.directory).status == 0)
        try #require(PeerCommandTests.wait(seconds: 30) { !Self.workerProcesses(of: cli).isEmpty }, "the worker started")
        // SIGTERM: the peer leaves (at most RuntimeLimits.leaveGracePeriod, 3 s) and kills its
        // workers on the way out; the 10 s a released worker is given do not hold it back.
        let process = try #require(node.process)
        let stopping = Date()
        kill(process.processIdentifier, SIGTERM)
        let stopped = PeerCommandTests.wait(seconds: 8) { !process.isRunning }
        #expect(stopped && Date().timeIntervalSince(stopping) < 6, "stopped in \(Date().timeIntervalSince(stopping)) s")
        #expect(PeerCommandTests.wait(seconds: 5) { Self.workerProcesses(of: cli).isEmpty }, "its worker is gone")
        node.process = nil
    }

    @Test func aPythonWorkerWithoutTheLibSaysWhatToInstallOrSet() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        // `--python python3`: the first python3 in PATH, which runs scripts without the Lib
        // (the tests put it on PYTHONPATH only where they want it).
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import starling"]
        probe.standardError = FileHandle.nullDevice
        try probe.run()
        probe.waitUntilExit()
        try #require(probe.terminationStatus != 0, "python3 in PATH must lack the Starling Lib for this test")
        let node = try Self.soloPeer(cli, extraArguments: ["--python", "python3"])
        defer { Self.stopAll([node]) }
        let scripts = cli.path("scripts")
        try FileManager.default.createDirectory(atPath: scripts, withIntermediateDirectories: true)
        try "import starling\n".write(toFile: "\(scripts)/train.py", atomically: true, encoding: .utf8)
        let spec = try Self.soloTask(cli, name: "no-lib", rounds: 1, directory: scripts, bootFile: "train.py")
        let submitted = try cli.run("task", "submit", spec, "--peer", node.directory)
        try #require(submitted.status == 0, "\(submitted.stderr)")
        // The first exit says it in the log at once; the same text is the failure reason once the
        // restarts are spent (WorkerSupervisorTests checks that).
        let said = PeerCommandTests.wait(seconds: 20) { Self.logs(cli, node, task: "no-lib").contains("lacks the Starling Lib") }
        let logs = Self.logs(cli, node, task: "no-lib")
        #expect(said, "\(logs)")
        let started = try #require(logs.split(separator: "\n").first { $0.hasPrefix("--- starting worker only") }, "\(logs)")
        let python = try #require(started.split(separator: " ").dropLast().last.map(String.init), "\(started)")
        #expect(python.hasPrefix("/") && started.hasSuffix("-- \(python) \(scripts)/train.py"), "the Python chosen, by its path: \(started)")
        #expect(logs.contains("--- the Python that runs .py workers (\(python)) lacks the Starling Lib: pip install ./python there, "
            + "or start the peer with --python PATH (or STARLING_PYTHON) naming one that has it"), "\(logs)")
    }

    @Test func theParametersDocumentedForThePythonExampleAreWhatItsWorkersGet() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        let node = try Self.soloPeer(cli)
        defer { Self.stopAll([node]) }
        // The example's five datasets and its evaluation dataset, all on this peer (the same file).
        for name in (0..<5).map({ "digits-\($0)" }) + ["digits-test"] {
            let added = try cli.run("dataset", "add", name, "--path", cli.path("digits-solo.csv"), "--peer", node.directory)
            try #require(added.status == 0, "\(added.stderr)")
        }
        // The example as written, but for its script: one that prints what it was given, then trains.
        let scripts = cli.path("scripts")
        try FileManager.default.createDirectory(atPath: scripts, withIntermediateDirectories: true)
        try "#!/bin/sh\nprintf 'STARLING_PARAMETERS=%s\\n' \"$STARLING_PARAMETERS\"\nexec '\(CLIRunner.executable.path)' worker builtin logreg\n"
            .write(toFile: "\(scripts)/dump.sh", atomically: true, encoding: .utf8)
        chmod("\(scripts)/dump.sh", 0o755)
        var text = try String(contentsOfFile: TaskCommandTests.example("federatedtask-python.yaml"), encoding: .utf8)
        for (from, to) in [("trainScriptDir: workers", "trainScriptDir: \(scripts)"),
                           ("trainScriptBootFile: numpy_logreg.py", "trainScriptBootFile: dump.sh")] {
            try #require(text.contains(from), "examples/federatedtask-python.yaml changed: \(from)")
            text = text.replacingOccurrences(of: from, with: to)
        }
        let spec = cli.path("python-example.yaml")
        try text.write(toFile: spec, atomically: true, encoding: .utf8)
        let submitted = try cli.run("task", "submit", spec, "--peer", node.directory)
        try #require(submitted.status == 0, "\(submitted.stderr)")
        var given: String?
        let printed = PeerCommandTests.wait(seconds: 30) {
            let logs = (try? cli.run("task", "logs", "digits-python", "--worker", "work0", "--peer", node.directory).stdout) ?? ""
            given = logs.split(separator: "\n").first { $0.hasPrefix("STARLING_PARAMETERS=") }.map { String($0.dropFirst(20)) }
            return given != nil
        }
        _ = try? cli.run("task", "cancel", "digits-python", "--peer", node.directory)
        try #require(printed, "work0 started within 30 s:\n\(Self.describeTraining(cli, [node], name: "digits-python"))")

        // docs/workers.md: "| `STARLING_PARAMETERS` | a JSON object; for `examples/federatedtask-python.yaml`: `{…}`"
        let docs = try String(contentsOf: TaskCommandTests.packageRoot.appendingPathComponent("docs/workers.md"), encoding: .utf8)
        let row = try #require(docs.split(separator: "\n").first { $0.hasPrefix("| `STARLING_PARAMETERS` |") }, "the row is in docs/workers.md")
        let marker = "for `examples/federatedtask-python.yaml`: `"
        let start = try #require(row.range(of: marker)?.upperBound, "the row shows the example's parameters: \(row)")
        let documented = String(row[start...].prefix { $0 != "`" })
        let real = try JSONSerialization.jsonObject(with: Data(try #require(given).utf8)) as? NSDictionary
        let example = try JSONSerialization.jsonObject(with: Data(documented.utf8)) as? NSDictionary
        #expect(real != nil && real == example, "docs/workers.md shows \(documented); a worker of the example gets \(given ?? "-")")
    }
}
