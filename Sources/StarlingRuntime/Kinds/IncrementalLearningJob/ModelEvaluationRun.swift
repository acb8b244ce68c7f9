import StarlingPeer
import StarlingStore
import StarlingTasks
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What an evaluation worker is asked: the models (name → safetensors path, e.g. `candidate` and
/// `deployed`) to evaluate on this peer's evaluation rows, a CSV the caller wrote (`JobData`).
struct ModelEvaluationOrder {
    let task: TaskID
    let spec: TaskSpec
    /// `evalSpec.workerSpec`.
    let worker: WorkerSpec
    let models: [String: String]
    /// The dataset the rows come from (`STARLING_DATASET`), the CSV's path and its row count.
    let dataset: String
    let dataPath: String
    let rows: UInt64
    /// `STARLING_SEED` (an evaluation needs none; a worker may shuffle with it).
    var seed: UInt64 = 0
}

/// One run of an evaluation worker (docs/workers.md, "Evaluation workers (IncrementalLearningJob)"),
/// one-shot, on the loop's thread and driven by its callbacks: the worker is started with
/// `STARLING_ROLE=eval`, writes one confusion matrix per model into its result file and exits 0.
/// `completion` then gets the checked matrices (`ModelEvaluationOutput`), or the reason the
/// evaluation failed: a non-zero exit (its last line of standard error), no result, a result that
/// does not check out, or no exit within the timeout (the worker is killed). Whatever the worker
/// does, the peer gets a reason, never a crash.
///
///     let run = ModelEvaluationRun(loop: loop, launch: launch, log: log, order: order) { result in ... }
///     run.start()      // completion is called once, later (never from within start)
///     run.cancel()     // the job ended here: the worker is killed, completion is not called
///
/// A started run keeps itself alive (its process's and timer's callbacks hold it) until it
/// finishes or is cancelled, so a caller that lets go of it still gets its completion.
final class ModelEvaluationRun {
    typealias Completion = (Result<[String: ConfusionMatrix], RuntimeError>) -> Void

    /// The stage worker's name: its log (`task logs NAME --worker eval`) and work directory.
    static let workerName = "eval"

    private let loop: EventLoop
    private let log: WorkerLog
    private let models: [String]
    private let rows: UInt64
    private let outputPath: String
    private let timeout: Duration
    private let command: () throws -> WorkerLaunch.Command
    private var completion: Completion?
    private var process: ChildProcess?
    private var timer: LoopTimer?
    private var standardOutput = LastLine()
    private var standardError = LastLine()
    private var python: String?

    /// A run of `order` through `launch` (the stage's worker spec); its result file is written in the
    /// worker's work directory (`<work dir>/<task id prefix>/eval/result.json`). The run writes the
    /// worker's output to `log` and closes it when done.
    convenience init(loop: EventLoop, launch: WorkerLaunch, log: WorkerLog, order: ModelEvaluationOrder,
                     timeout: Duration = ModelEvaluationLimits.timeout, completion: @escaping Completion) {
        let outputPath = "\(launch.workDirectory)/\(order.task.text.prefix(16))/\(Self.workerName)/result.json"
        let dataset = JobData.record(order.dataset, path: order.dataPath, rows: Int(order.rows))
        self.init(loop: loop, log: log, models: Array(order.models.keys), rows: order.rows, outputPath: outputPath,
                  timeout: timeout, command: {
                      try launch.evalCommand(task: order.task, spec: order.spec, worker: order.worker, name: Self.workerName,
                                             token: WorkerLaunch.newToken(), dataset: dataset, models: order.models,
                                             outputPath: outputPath, seed: order.seed)
                  }, completion: completion)
    }

    /// A run of whatever `command` starts (tests give their own worker), read from `outputPath`.
    init(loop: EventLoop, log: WorkerLog, models: [String], rows: UInt64, outputPath: String,
         timeout: Duration = ModelEvaluationLimits.timeout, command: @escaping () throws -> WorkerLaunch.Command,
         completion: @escaping Completion) {
        precondition(!models.isEmpty, "an evaluation evaluates at least one model")
        self.loop = loop
        self.log = log
        self.models = models.sorted()
        self.rows = rows
        self.outputPath = outputPath
        self.timeout = timeout
        self.command = command
        self.completion = completion
    }

    var isRunning: Bool { process != nil }

    /// Starts the worker (a result file left from an earlier run is removed first). With no
    /// evaluation rows no worker runs: every model gets the empty matrix.
    func start() {
        precondition(completion != nil && process == nil && timer == nil, "a run starts once")
        guard let timer = try? LoopTimer(loop: loop) else {
            return finishSoon(.failure(RuntimeError("cannot start the evaluation worker: no timer")))
        }
        self.timer = timer
        guard rows > 0 else {
            return finishSoon(.success(Dictionary(uniqueKeysWithValues: models.map { ($0, ConfusionMatrix.empty) })))
        }
        do {
            try POSIXFile.remove(outputPath)
            let command = try self.command()
            python = command.python
            log.append("--- starting evaluation worker (\(models.joined(separator: ", ")) on \(rows) rows): "
                + command.arguments.joined(separator: " ") + "\n")
            process = try ChildProcess(
                loop: loop, arguments: command.arguments, environment: command.environment, directory: command.directory,
                onOutput: { bytes, isStandardError in self.output(bytes, isStandardError: isStandardError) },
                onExit: { status, signal in self.exited(status: status, signal: signal) })
        } catch {
            return finishSoon(.failure(RuntimeError("cannot start the evaluation worker: \(error)")))
        }
        timer.start(after: timeout) {
            self.log.append("--- evaluation worker still runs after \(self.timeout): killed\n")
            self.finish(.failure(RuntimeError("the evaluation worker did not finish within \(self.timeout)")))
        }
    }

    /// The job ended here: the worker is killed and `completion` never called.
    func cancel() {
        guard completion != nil else { return }
        completion = nil
        if process != nil { log.append("--- evaluation cancelled\n") }
        closeHandles()
    }

    private func output(_ bytes: [UInt8], isStandardError: Bool) {
        log.append(bytes)
        if isStandardError { standardError.append(bytes) } else { standardOutput.append(bytes) }
    }

    private func exited(status: Int64, signal: Int32) {
        let how = signal != 0 ? "was killed by signal \(signal)" : "exited with status \(status)"
        log.append("--- evaluation worker \(how)\n")
        guard signal == 0, status == 0 else { return finish(.failure(RuntimeError(failure(how)))) }
        do {
            let bytes = try Self.readResult(outputPath)
            let matrices = try ModelEvaluationOutput.parse(bytes, models: models, rows: rows)
            log.append("--- evaluated " + matrices.keys.sorted().map { name in
                let matrix = matrices[name]!
                let correct = (0..<matrix.classes).reduce(UInt64(0)) { $0 + matrix.count(truth: $1, predicted: $1) }
                return "\(name): \(correct) of \(matrix.total) right"
            }.joined(separator: "; ") + "\n")
            finish(.success(matrices))
        } catch {
            log.append("--- \(error)\n")
            finish(.failure(RuntimeError("the evaluation worker exited 0, but \(error)")))
        }
    }

    /// Why the worker failed, as a training worker's failure is reported: its last line of standard
    /// error (else of standard output), and what to do when a Python worker lacks a module.
    private func failure(_ how: String) -> String {
        standardOutput.finish()
        standardError.finish()
        if let python, let hint = WorkerFailureHint.hint(lastLine: standardError.line, python: python),
           let module = WorkerFailureHint.missingModule(in: standardError.line) {
            log.append("--- \(hint)\n")
            return "evaluation worker \(how): No module named '\(module)': \(hint)"
        }
        let line = standardError.line.isEmpty ? standardOutput.line : standardError.line
        return "evaluation worker \(how)" + (line.isEmpty ? "" : ": \(line)")
    }

    private func finish(_ result: Result<[String: ConfusionMatrix], RuntimeError>) {
        let completion = self.completion
        self.completion = nil
        closeHandles()
        completion?(result)
    }

    /// `finish` on the loop's next turn, so `start` never calls back into its caller.
    private func finishSoon(_ result: Result<[String: ConfusionMatrix], RuntimeError>) {
        guard let timer = timer ?? (try? LoopTimer(loop: loop)) else {
            // No timer at all (libuv refused one): there is no later to wait for.
            return finish(result)
        }
        self.timer = timer
        timer.start(after: .zero) { self.finish(result) }
    }

    private func closeHandles() {
        timer?.close()
        timer = nil
        process?.close()
        process = nil
        log.close()
    }

    /// The result file, bounded, and only a regular file: a worker's code may have left a FIFO (whose
    /// opening would block the loop), a device or a link to another file there.
    static func readResult(_ path: String) throws -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW)
        guard descriptor >= 0 else {
            if errno == ENOENT { throw RuntimeError("it wrote no result file (\(path))") }
            throw RuntimeError("its result file \(path) cannot be opened: \(POSIXFile.errorText())")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
            throw RuntimeError("its result file \(path) is not a regular file")
        }
        let limit = ModelEvaluationLimits.outputBytesMax
        guard Int(status.st_size) <= limit else {
            throw RuntimeError("its result file is \(status.st_size) bytes, over ModelEvaluationLimits.outputBytesMax (\(limit))")
        }
        var bytes = [UInt8](repeating: 0, count: limit + 1)
        var done = 0
        while done <= limit {
            let count = bytes.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + done, limit + 1 - done) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw RuntimeError("its result file \(path) cannot be read: \(POSIXFile.errorText())") }
            if count == 0 { break }
            done += count
        }
        guard done <= limit else { throw RuntimeError("its result file grew over ModelEvaluationLimits.outputBytesMax (\(limit))") }
        return Array(bytes.prefix(done))
    }
}
