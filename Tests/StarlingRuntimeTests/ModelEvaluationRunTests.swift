import Foundation
import StarlingLearning
import StarlingPeer
@testable import StarlingRuntime
import StarlingTasks
import Testing

/// `ModelEvaluationRun` on a real loop: the built-in evaluation worker as a real process, and
/// workers that crash, hang or write what they should not (docs/workers.md, "Evaluation workers
/// (IncrementalLearningJob)").
@Suite(.serialized) struct ModelEvaluationRunTests {
    final class Harness {
        let loop: EventLoop
        let directory: String
        var result: Result<[String: ConfusionMatrix], RuntimeError>?
        var calls = 0

        init() throws {
            loop = try EventLoop()
            directory = temporaryDirectory()
        }

        func close() {
            loop.close()
            try? FileManager.default.removeItem(atPath: directory)
        }

        var output: String { "\(directory)/result.json" }
        var log: String { (try? String(contentsOfFile: "\(directory)/logs/eval.log", encoding: .utf8)) ?? "" }

        func completion(_ result: Result<[String: ConfusionMatrix], RuntimeError>) {
            self.result = result
            calls += 1
        }

        /// A run of `script` (/bin/sh, `$OUT` the result file) for models a and b on `rows` rows.
        func run(_ script: String, rows: UInt64 = 3, timeout: Duration = .seconds(20)) -> ModelEvaluationRun {
            let run = ModelEvaluationRun(
                loop: loop, log: WorkerLog(directory: "\(directory)/logs", worker: "eval"), models: ["a", "b"], rows: rows,
                outputPath: output, timeout: timeout,
                command: { [output] in
                    WorkerLaunch.Command(arguments: ["/bin/sh", "-c", script], environment: ["PATH=/usr/bin:/bin", "OUT=\(output)"],
                                         directory: nil)
                },
                completion: completion)
            run.start()
            return run
        }

        /// The failure reason once the run finished.
        func reason() -> String {
            guard loop.run(until: { self.result != nil }, timeout: patience) else { return "no answer" }
            switch result {
            case let .failure(error)?: return error.description
            default: return "succeeded"
            }
        }
    }

    static let task = try! TaskID(text: String(repeating: "cd", count: 32))

    // MARK: The built-in worker, for real

    @Test func theBuiltinWorkerEvaluatesBothModelsAsTheTestComputesThem() throws {
        let starling = try #require(ChildProcessTests.starlingBinary(), "the starling executable is built next to the tests")
        let harness = try Harness()
        defer { harness.close() }
        // Three classes in four features; the candidate is trained, the deployed model is a fresh one.
        var features: [Float] = []
        var labels: [Int32] = []
        var random = SystemRandomNumberGenerator()
        for row in 0..<90 {
            let label = row % 3
            for feature in 0..<4 { features.append((feature == label ? 1 : 0) + Float.random(in: -0.3...0.3, using: &random)) }
            labels.append(Int32(label))
        }
        let data = try LabeledData(features: features, labels: labels, featureCount: 4, classCount: 3)
        let dataPath = "\(harness.directory)/eval-rows.csv"
        try DatasetFile.encodeCSV(data).write(to: dataPath)
        let trainer = BuiltinTrainer(kind: .logreg, featureCount: 4, classCount: 3)
        let deployed = trainer.initialWeights(seed: 7)
        let candidate = try trainer.train(deployed, on: data, epochs: 20, batchSize: 10, learningRate: 0.5, proximalMu: 0, seed: 1).weights
        var models: [String: String] = [:]
        for (name, weights) in ["candidate": candidate, "deployed": deployed] {
            models[name] = "\(harness.directory)/\(name).safetensors"
            try SafeTensors.encode(weights).write(to: models[name]!)
        }
        let launch = WorkerLaunch(launcher: starling, socketPath: "\(harness.directory)/peer.sock",
                                  workDirectory: "\(harness.directory)/work")
        let worker = WorkerSpec(script: ScriptSpec(bootFile: .builtin(.logreg)))
        let spec = TaskSpec(name: "job", kind: .federatedTask(FederatedTaskSpec(
            aggregationWorker: AggregationWorker(),
            trainingWorkers: [TrainingWorker(name: "w", dataset: DatasetRef(name: "digits"), script: worker.script)],
            rounds: RoundSettings(rounds: 1, minNodeNumber: 1))))
        let order = ModelEvaluationOrder(task: Self.task, spec: spec, worker: worker, models: models, dataset: "digits",
                                         dataPath: dataPath, rows: UInt64(data.count), seed: 1)
        let run = ModelEvaluationRun(loop: harness.loop, launch: launch, log: WorkerLog(directory: "\(harness.directory)/logs", worker: "eval"),
                                     order: order, completion: harness.completion)
        run.start()
        #expect(harness.calls == 0, "never called back from start")
        #expect(harness.loop.run(until: { harness.result != nil }, timeout: patience), "\(harness.log)")
        let matrices = try #require(try? harness.result?.get(), "\(String(describing: harness.result)): \(harness.log)")
        for (name, weights) in ["candidate": candidate, "deployed": deployed] {
            let scores = try BuiltinClassifier(kind: .logreg, weights: weights).probabilities(data.features, count: data.count)
            let predicted = (0..<data.count).map { row in
                let slice = scores[(row * 3)..<(row * 3 + 3)]
                return slice.indices.max { slice[$0] < slice[$1] }! - row * 3
            }
            let truth = data.labels.map(Int.init)
            let expected = ConfusionMatrix(truth: truth, predicted: predicted, classes: (truth + predicted).max()! + 1)
            #expect(matrices[name] == expected, "\(name)")
        }
        let candidateAccuracy = matrices["candidate"]!.metrics["accuracy"]?.value ?? 0
        #expect(candidateAccuracy > 0.9, "the trained candidate is evaluated, not a copy of the other: \(candidateAccuracy)")
        #expect(harness.log.contains("--- evaluated candidate:"), "\(harness.log)")
        #expect(harness.calls == 1)
    }

    @Test func theEvalCommandCarriesTheRoleTheRowsTheModelsAndTheOutput() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let launch = WorkerLaunch(launcher: "/bin/starling", socketPath: "peer.sock", workDirectory: "work", baseDirectory: directory)
        let worker = WorkerSpec(script: ScriptSpec(bootFile: .builtin(.mlp)), parameters: [Parameter(key: "hidden_units", value: "16")])
        let command = try launch.evalCommand(
            task: Self.task, spec: TaskSpec(name: "job", kind: .federatedTask(FederatedTaskSpec(
                aggregationWorker: AggregationWorker(),
                trainingWorkers: [TrainingWorker(name: "w", dataset: DatasetRef(name: "digits"), script: worker.script)],
                rounds: RoundSettings(rounds: 1, minNodeNumber: 1)))),
            worker: worker, name: "eval", token: "k", dataset: JobData.record("digits", path: "\(directory)/rows.csv", rows: 5),
            models: ["candidate": "models/c.safetensors", "deployed": "/m/d.safetensors"], outputPath: "out/result.json", seed: 9)
        #expect(command.arguments == ["/bin/starling", "exec-worker", "--", "/bin/starling", "worker", "builtin", "mlp"])
        let environment = Set(command.environment)
        for variable in [
            "STARLING_ROLE=eval", "STARLING_WORKER=eval", "STARLING_DATASET=digits", "STARLING_DATASET_PATH=\(directory)/rows.csv",
            "STARLING_DATASET_FORMAT=csv", "STARLING_SEED=9", #"STARLING_PARAMETERS={"hidden_units":16}"#,
            #"STARLING_EVAL_MODELS={"candidate":"\#(directory)/models/c.safetensors","deployed":"/m/d.safetensors"}"#,
            "STARLING_EVAL_OUTPUT=\(directory)/out/result.json", "STARLING_SOCKET=\(directory)/peer.sock",
            "STARLING_WORK_DIR=\(directory)/work/\(Self.task.text.prefix(16))/eval",
        ] {
            #expect(environment.contains(variable), "\(variable) in \(command.environment)")
        }
        #expect(command.environment == command.environment.sorted())
    }

    /// The example Python worker, with the Lib of this tree, on the same rows as the built-in one.
    @Test func thePythonExampleWorkerEvaluatesThroughTheRun() throws {
        let python = ProcessInfo.processInfo.environment["STARLING_PYTHON"] ?? "python3"
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = [python, "-c", "import numpy, safetensors"]
        try check.run()
        check.waitUntilExit()
        try #require(check.terminationStatus == 0, "\(python) lacks numpy or safetensors: set STARLING_PYTHON to a Python that has them")
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        let harness = try Harness()
        defer { harness.close() }
        let dataPath = "\(harness.directory)/eval-rows.csv"
        try Array("a,b,label\n1,0,0\n0,1,1\n1,1,1\n0,0,0\n".utf8).write(to: dataPath)
        // dense0 [10, 2]: class 1 when the second feature is set, else class 0 (by the bias).
        var weight = [Float](repeating: 0, count: 20)
        weight[1 * 2 + 1] = 5
        var bias = [Float](repeating: -9, count: 10)
        bias[0] = 1
        bias[1] = 0
        let model = try ModelWeights(tensors: [try Tensor(name: "dense0.weight", shape: [10, 2], values: weight),
                                               try Tensor(name: "dense0.bias", shape: [10], values: bias)])
        try SafeTensors.encode(model).write(to: "\(harness.directory)/model.safetensors")
        let launch = WorkerLaunch(launcher: nil, socketPath: "\(harness.directory)/peer.sock", workDirectory: "\(harness.directory)/work",
                                  python: python)
        let worker = WorkerSpec(script: ScriptSpec(bootFile: .python(path: "\(repository)/examples/workers/numpy_logreg_incremental.py")))
        let spec = TaskSpec(name: "job", kind: .federatedTask(FederatedTaskSpec(
            aggregationWorker: AggregationWorker(),
            trainingWorkers: [TrainingWorker(name: "w", dataset: DatasetRef(name: "digits"), script: worker.script)],
            rounds: RoundSettings(rounds: 1, minNodeNumber: 1))))
        let run = ModelEvaluationRun(
            loop: harness.loop, log: WorkerLog(directory: "\(harness.directory)/logs", worker: "eval"), models: ["only"], rows: 4,
            outputPath: harness.output,
            command: {
                var command = try launch.evalCommand(
                    task: Self.task, spec: spec, worker: worker, name: "eval", token: "k",
                    dataset: JobData.record("digits", path: dataPath, rows: 4),
                    models: ["only": "\(harness.directory)/model.safetensors"], outputPath: harness.output, seed: 1)
                command.environment.append("PYTHONPATH=\(repository)/python")
                return command
            },
            completion: harness.completion)
        run.start()
        #expect(harness.reason() == "succeeded", "\(harness.log)")
        #expect(try harness.result?.get()["only"] == ConfusionMatrix(truth: [0, 1, 1, 0], predicted: [0, 1, 1, 0], classes: 2))
    }

    // MARK: Workers that fail

    @Test func aCrashIsReportedWithItsLastLineOfStandardError() throws {
        let harness = try Harness()
        defer { harness.close() }
        _ = harness.run("echo working; echo 'Traceback ...' >&2; echo 'ValueError: shapes do not match' >&2; exit 1")
        #expect(harness.reason() == "evaluation worker exited with status 1: ValueError: shapes do not match")
        #expect(harness.log.contains("working\n"), "its output is logged")
    }

    @Test func aKilledWorkerIsAFailure() throws {
        let harness = try Harness()
        defer { harness.close() }
        _ = harness.run("kill -9 $$")
        #expect(harness.reason() == "evaluation worker was killed by signal 9")
    }

    @Test func exitingWithoutAResultIsAFailure() throws {
        let harness = try Harness()
        defer { harness.close() }
        _ = harness.run("exit 0")
        #expect(harness.reason().contains("exited 0, but it wrote no result file"))
    }

    @Test func aStaleResultIsNotTakenForANewOne() throws {
        let harness = try Harness()
        defer { harness.close() }
        try Array(#"{"models": {"a": {"confusion": [[3]]}, "b": {"confusion": [[3]]}}}"#.utf8).write(to: harness.output)
        _ = harness.run("exit 0")
        #expect(harness.reason().contains("wrote no result file"))
    }

    @Test func aBadResultIsAFailureNamingWhatIsWrong() throws {
        let harness = try Harness()
        defer { harness.close() }
        _ = harness.run(#"echo '{"models": {"a": {"confusion": [[3]]}, "b": {"confusion": [[2]]}}}' > "$OUT""#)
        #expect(harness.reason() == "the evaluation worker exited 0, but model b: the matrix counts 2 rows; the evaluation data has 3")
    }

    @Test func aGoodResultFromAnyProgramIsTaken() throws {
        let harness = try Harness()
        defer { harness.close() }
        _ = harness.run(#"echo '{"models": {"a": {"confusion": [[1, 1], [0, 1]]}, "b": {"confusion": [[3]]}}}' > "$OUT.tmp"; mv "$OUT.tmp" "$OUT""#)
        #expect(harness.reason() == "succeeded")
        #expect(try harness.result?.get()["a"] == ConfusionMatrix(classes: 2, counts: [1, 1, 0, 1]))
    }

    @Test func aHugeFifoOrLinkedResultIsNotRead() throws {
        let harness = try Harness()
        defer { harness.close() }
        _ = harness.run(#"head -c 5000000 /dev/zero > "$OUT""#)
        #expect(harness.reason().contains("over ModelEvaluationLimits.outputBytesMax"))
        // A FIFO nobody writes would block the loop on open: refused without waiting.
        let fifo = try Harness()
        defer { fifo.close() }
        _ = fifo.run(#"mkfifo "$OUT""#)
        #expect(fifo.reason().contains("is not a regular file"))
        let link = try Harness()
        defer { link.close() }
        _ = link.run(#"ln -s /etc/passwd "$OUT""#)
        #expect(link.reason().contains("cannot be opened"))
    }

    @Test func aWorkerThatHangsIsKilledAtTheTimeout() throws {
        let harness = try Harness()
        defer { harness.close() }
        let started = ContinuousClock.now
        let run = harness.run("sleep 30", timeout: .milliseconds(300))
        #expect(harness.reason() == "the evaluation worker did not finish within 0.3 seconds")
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(!run.isRunning)
        #expect(harness.log.contains("killed"), "\(harness.log)")
    }

    @Test func aCancelledRunNeverAnswers() throws {
        let harness = try Harness()
        defer { harness.close() }
        let run = harness.run("sleep 30")
        #expect(run.isRunning)
        run.cancel()
        #expect(!run.isRunning)
        _ = harness.loop.run(until: { false }, timeout: .milliseconds(200))
        #expect(harness.calls == 0)
    }

    @Test func noRowsNeedNoWorker() throws {
        let harness = try Harness()
        defer { harness.close() }
        _ = harness.run("echo should not run >&2; exit 1", rows: 0)
        #expect(harness.calls == 0, "never called back from start")
        #expect(harness.reason() == "succeeded")
        #expect(try harness.result?.get() == ["a": .empty, "b": .empty])
    }

    @Test func aProgramThatCannotStartIsAFailure() throws {
        let harness = try Harness()
        defer { harness.close() }
        let run = ModelEvaluationRun(
            loop: harness.loop, log: WorkerLog(directory: harness.directory, worker: "eval"), models: ["a"], rows: 1,
            outputPath: harness.output,
            command: { WorkerLaunch.Command(arguments: ["/nonexistent/worker"], environment: [], directory: nil) },
            completion: harness.completion)
        run.start()
        #expect(harness.calls == 0)
        #expect(harness.reason().hasPrefix("cannot start the evaluation worker: cannot start /nonexistent/worker"))
    }
}

private extension Array where Element == UInt8 {
    func write(to path: String) throws { try Data(self).write(to: URL(fileURLWithPath: path)) }
}
