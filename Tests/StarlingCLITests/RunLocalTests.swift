import Foundation
import StarlingLearning
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `starling task run-local` as a user runs it: refusals before anything starts, the documented
/// Python example trained to the end, and no process or workspace left behind after a completion,
/// an interrupt, a timeout or a worker its peer gave up on.
@Suite(.serialized) struct RunLocalTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// A run-local process with its output in files (read while it runs) and its temporary
    /// directory inside the test's, so a leftover workspace is seen.
    struct Run {
        let process: Process
        let stdoutPath: String
        let stderrPath: String
        var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
        var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

        /// The workspace the run said it uses.
        var workspace: String? {
            stdout.split(separator: "\n").first { $0.hasPrefix("workspace: ") }
                .map { String($0.dropFirst("workspace: ".count).prefix { $0 != " " }) }
        }

        func wait(seconds: Double) -> Bool {
            PeerCommandTests.wait(seconds: seconds) { !process.isRunning }
        }
    }

    static func start(_ cli: CLIRunner, _ arguments: [String], name: String = "run") throws -> Run {
        let temporary = cli.path("tmp")
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        let run = Run(process: Process(), stdoutPath: cli.path("\(name).out"), stderrPath: cli.path("\(name).err"))
        run.process.executableURL = CLIRunner.executable
        run.process.arguments = ["task", "run-local"] + arguments
        run.process.currentDirectoryURL = URL(fileURLWithPath: cli.directory)
        run.process.environment = ProcessInfo.processInfo.environment.merging(["TMPDIR": temporary]) { _, new in new }
        _ = FileManager.default.createFile(atPath: run.stdoutPath, contents: nil)
        _ = FileManager.default.createFile(atPath: run.stderrPath, contents: nil)
        run.process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: run.stdoutPath))
        run.process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: run.stderrPath))
        try run.process.run()
        return run
    }

    /// Runs to the end (bounded); the exit status.
    static func finish(_ cli: CLIRunner, _ arguments: [String], seconds: Double = 20) throws -> (status: Int32, run: Run) {
        let run = try start(cli, arguments)
        guard run.wait(seconds: seconds) else {
            kill(run.process.processIdentifier, SIGKILL)
            run.process.waitUntilExit()
            Issue.record("run-local still running after \(seconds) s:\n\(run.stdout)\n\(run.stderr)")
            return (-1, run)
        }
        return (run.process.terminationStatus, run)
    }

    /// Processes (besides this one) whose command line or environment mentions `path`: the peers
    /// (their --data-dir) and their workers (STARLING_SOCKET).
    static func processes(mentioning path: String) -> [String] {
        let me = getpid()
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> String? in
            guard let pid = Int32(entry), pid != me else { return nil }
            let commandLine = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") ?? Data()
            let environment = FileManager.default.contents(atPath: "/proc/\(pid)/environ") ?? Data()
            let text = String(decoding: commandLine + environment, as: UTF8.self)
            guard text.contains(path) else { return nil }
            return "\(pid): " + String(decoding: commandLine, as: UTF8.self).replacingOccurrences(of: "\0", with: " ")
        }
    }

    /// Nothing of the run is left: no process, no workspace (unless kept), nothing in its TMPDIR.
    static func expectNothingLeft(_ cli: CLIRunner, _ run: Run, kept: Bool = false) throws {
        let workspace = try #require(run.workspace, "the run names its workspace:\n\(run.stdout)")
        let left = Self.processes(mentioning: workspace)
        #expect(left.isEmpty, "processes left behind: \(left)")
        #expect(FileManager.default.fileExists(atPath: workspace) == kept, "workspace \(workspace) kept: \(kept)")
        #expect((try? FileManager.default.contentsOfDirectory(atPath: cli.path("tmp"))) ?? [] == [])
    }

    static func write(_ text: String, to path: String) throws { try text.write(toFile: path, atomically: true, encoding: .utf8) }

    /// A Python with numpy and safetensors (as the suite's other Python tests ask for), wrapped
    /// so that it finds the repository's Python Lib: the `--python` a user gives after `pip install ./python`.
    static func pythonWithLib(_ cli: CLIRunner) throws -> String {
        let python = try TestPython.withNumpy()
        let wrapper = cli.path("python-with-lib")
        try write("#!/bin/sh\nPYTHONPATH=\(repository)/python exec \(python) \"$@\"\n", to: wrapper)
        chmod(wrapper, 0o755)
        return wrapper
    }

    @Test func refusesWhatItCannotRunBeforeStartingAnything() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        try Self.write("1,2,3\n", to: cli.path("data.csv"))
        func refusal(_ spec: String, _ arguments: [String]) throws -> String {
            try Self.write(spec, to: cli.path("task.yaml"))
            let (status, run) = try Self.finish(cli, ["task.yaml"] + arguments)
            #expect(status == 1, "\(run.stdout)\n\(run.stderr)")
            #expect(run.workspace == nil, "nothing started: \(run.stdout)")
            return run.stderr
        }
        func spec(_ workers: String, name: String = "trial", extra: String = "") -> String {
            "apiVersion: edgeai.io/v1alpha1\nkind: FederatedTask\nmetadata: {name: \(name)}\nspec:\n\(extra)  trainingWorkers:\n\(workers)"
        }
        let builtin = "      workerSpec: {dataset: {name: part-a}, trainScriptBootFile: builtin:logreg}\n"

        // Spec errors exactly as `task submit` prints them.
        let invalid = spec("    - name: a\n" + builtin, name: "Bad_Name", extra: "  round: 3\n")
        let errors = try refusal(invalid, ["--dataset", "part-a=data.csv"])
        #expect(errors.contains("task.yaml:3: error: metadata.name: must be a DNS-1123 label"), "\(errors)")
        #expect(errors.contains("task.yaml:5: error: spec.round: unknown field (did you mean rounds?)"), "\(errors)")
        #expect(errors.contains("task.yaml: 2 errors; nothing was started"), "\(errors)")

        // Datasets: the missing ones with the workers that use them, and the extra ones.
        let three = "    - name: a\n" + builtin + "    - name: b\n      workerSpec: {dataset: {name: part-b}}\n"
            + "    - name: c\n      workerSpec: {dataset: {name: part-b}}\n"
        let datasets = try refusal(spec(three), ["--dataset", "part-a=data.csv", "--dataset", "part-z=data.csv"])
        #expect(datasets.contains("datasets not given: part-b (b, c); give each as --dataset NAME=PATH"), "\(datasets)")
        #expect(datasets.contains("--dataset part-z: trial does not use it (it uses part-a, part-b)"), "\(datasets)")
        // The central evaluation's dataset is needed too (the coordinator holds it).
        let evaluated = "  aggregationWorker: {evaluation: {dataset: {name: holdout}}}\n"
        #expect(try refusal(spec("    - name: a\n" + builtin, extra: evaluated), ["--dataset", "part-a=data.csv"])
            .contains("the spec uses datasets not given: holdout (the central evaluation); give each as --dataset NAME=PATH"))
        #expect(try refusal(spec(three), ["--dataset", "part-a=data.csv", "--dataset", "part-b=missing.csv"])
            .contains("--dataset part-b=missing.csv: no such file"))

        // One dataset pinned to two peers; placement and coordinator tags that no peer can meet.
        let pinned = "    - name: a\n      nodeName: n1\n" + builtin + "    - name: b\n      nodeName: n2\n"
        #expect(try refusal(spec(pinned), ["--dataset", "part-a=data.csv"])
            .contains("dataset part-a is trained by workers pinned to different peers (a on n1, b on n2)"))
        let tags = "  placement: {tags: {site: a}}\n  coordinator: {tags: {site: b}}\n"
        #expect(try refusal(spec("    - name: a\n" + builtin, extra: tags), ["--dataset", "part-a=data.csv"])
            .contains("spec.coordinator.tags.site is b but spec.placement.tags.site is a: no peer can both run the task and coordinate it"))

        // A relative trainScriptDir resolves against the spec file's directory, not the current one.
        try FileManager.default.createDirectory(atPath: cli.path("workers"), withIntermediateDirectories: true)
        try Self.write("print('hi')\n", to: cli.path("workers/train.py"))
        let python = "    - name: a\n      workerSpec: {dataset: {name: part-a}, trainScriptDir: workers, trainScriptBootFile: train.py}\n"
        try FileManager.default.createDirectory(atPath: cli.path("specs"), withIntermediateDirectories: true)
        try Self.write(spec(python), to: cli.path("specs/task.yaml"))
        let (status, run) = try Self.finish(cli, ["specs/task.yaml", "--dataset", "part-a=data.csv"])
        #expect(status == 1 && run.workspace == nil)
        #expect(run.stderr.contains("training worker a: trainScriptDir workers is \(cli.directory)/specs/workers, which is not a directory "
            + "(run-local resolves a relative trainScriptDir against the spec file's directory)"), "\(run.stderr)")
    }

    @Test func trainsThePythonExampleToTheEndAndLeavesNothingBehind() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        let python = try Self.pythonWithLib(cli)
        #expect(try cli.run("demo", "--write-data", "data").status == 0)
        // The command docs/workers.md and the README show, from another directory than the spec's.
        let datasets = (0..<5).flatMap { ["--dataset", "digits-\($0)=data/digits-\($0).csv"] } + ["--dataset", "digits-test=data/test.csv"]
        let (status, run) = try Self.finish(cli, ["\(Self.repository)/examples/federatedtask-python.yaml"] + datasets
            + ["--python", python], seconds: 60)
        try #require(status == 0, "\(run.stdout)\n\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.contains("round 10 committed: 5 updates") }, "\(run.stdout)")
        #expect(lines.contains { $0.hasSuffix(" participants: work0@edge-1 work1@edge-2 work2@edge-3 work3@edge-4 work4@edge-5") })
        let exported = "\(cli.directory)/digits-python.safetensors"
        #expect(lines.last?.hasPrefix("model exported to \(exported) (") == true, "\(run.stdout)")
        #expect(lines.last?.contains("the model of round 10; central loss ") == true, "\(run.stdout)")
        try Self.expectNothingLeft(cli, run)

        // The model numpy_logreg.py trained, on the 20% the demo holds out.
        let weights = try SafeTensors.decode([UInt8](try #require(FileManager.default.contents(atPath: exported))))
        let test = try DatasetFile.decode([UInt8](try #require(FileManager.default.contents(atPath: cli.path("data/test.csv")))), format: .csv)
        let accuracy = try BuiltinTrainer(kind: .logreg, featureCount: 64, classCount: 10).evaluate(weights, on: test).accuracy
        #expect(accuracy > 0.85, "held-out accuracy \(accuracy)")
    }

    /// A task too long to finish (builtin workers, no Python needed) that only runs when the peers
    /// carry its placement and coordinator tags and one is named as b's nodeName says.
    static let endless = """
        apiVersion: edgeai.io/v1alpha1
        kind: FederatedTask
        metadata: {name: endless}
        spec:
          placement: {tags: {site: lab}}
          coordinator: {tags: {tier: cloud}}
          rounds: 100000
          trainingWorkers:
            - name: a
              workerSpec: {dataset: {name: part-a}, trainScriptBootFile: builtin:logreg}
            - name: b
              nodeName: gpu-box
              workerSpec: {dataset: {name: part-b}}
        """

    @Test func ctrlCStopsEveryProcessAndKeepsTheClusterWhenAsked() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        #expect(try cli.run("demo", "--write-data", "data").status == 0)
        try Self.write(Self.endless, to: cli.path("endless.yaml"))
        let run = try Self.start(cli, ["endless.yaml", "--dataset", "part-a=data/digits-0.csv", "--dataset", "part-b=data/digits-1.csv",
                                       "--keep", "kept"])
        let training = PeerCommandTests.wait(seconds: 30) { run.stdout.contains("round 2 committed") }
        let workers = Self.processes(mentioning: "\(cli.directory)/kept/peers/gpu-box/starling.sock")
        kill(run.process.processIdentifier, SIGINT)
        #expect(run.wait(seconds: 15), "stopped within 15 s")
        try #require(training, "rounds committed within 30 s:\n\(run.stdout)\n\(run.stderr)")
        #expect(!workers.isEmpty, "a worker ran on gpu-box")
        #expect(run.stdout.contains(" participants: a@edge-1 b@gpu-box\n"), "\(run.stdout)")
        #expect(run.stdout.contains("(coordinator cloud, epoch 1)"), "\(run.stdout)")
        #expect(run.process.terminationStatus == 130)
        #expect(run.stderr.contains("interrupted: every process run-local started has stopped; "
            + "the peers' data directories and logs are kept in \(cli.directory)/kept"), "\(run.stderr)")
        try Self.expectNothingLeft(cli, run, kept: true)
        #expect(FileManager.default.fileExists(atPath: cli.path("kept/logs/edge-1.log")))
        #expect(FileManager.default.fileExists(atPath: cli.path("kept/peers/gpu-box/starling.db")))
    }

    @Test func aTimeoutAndAWorkerGivenUpEndTheRunWithTheReason() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        #expect(try cli.run("demo", "--write-data", "data").status == 0)
        try Self.write(Self.endless, to: cli.path("endless.yaml"))
        let datasets = ["--dataset", "part-a=data/digits-0.csv", "--dataset", "part-b=data/digits-1.csv"]
        let (timedOut, late) = try Self.finish(cli, ["endless.yaml", "--timeout", "2s"] + datasets)
        #expect(timedOut == 1)
        #expect(late.stderr.contains("Error: the task did not complete within 2 s (round "), "\(late.stderr)")
        try Self.expectNothingLeft(cli, late)

        // A worker that crashes every time: its peer gives up after the restarts, and so does the run.
        try Self.write("#!/bin/sh\necho 'boom: no accelerator on this peer' >&2\nexit 1\n", to: cli.path("crash.sh"))
        chmod(cli.path("crash.sh"), 0o755)
        try Self.write(Self.endless.replacingOccurrences(of: "workerSpec: {dataset: {name: part-b}}",
                                                         with: "workerSpec: {dataset: {name: part-b}, trainScriptDir: ., trainScriptBootFile: ./crash.sh}"),
                       to: cli.path("crashing.yaml"))
        let (crashed, run) = try Self.finish(cli, ["crashing.yaml"] + datasets, seconds: 40)
        #expect(crashed == 2, "a failed training exits 2, as task watch does for a failed task")
        #expect(run.stderr.contains("Error: gpu-box gave up on worker b: worker exited with status 1"), "\(run.stderr)")
        #expect(run.stderr.contains("the end of worker b's log on gpu-box:") && run.stderr.contains("boom: no accelerator on this peer"))
        try Self.expectNothingLeft(cli, run)
    }
}
