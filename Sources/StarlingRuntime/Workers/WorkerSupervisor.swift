import Foundation
import StarlingCrypto
import StarlingPeer
import StarlingTasks
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One training worker of one task on this peer: its process, its log, its restart rule and the
/// round it is asked to train (docs/workers.md).
///
/// The process lives across rounds and asks for work through the local API (`worker-poll`). It is
/// started when the first round is ordered, restarted after `WorkerLimits.restartDelays` when it
/// exits while owing an update, and given up after as many failures in a row: the round's order is
/// then answered "failed" with the last line it printed, as is every later order of the task.
///
/// Released (its task ended here), it is told "stop" at its next poll and given
/// `WorkerLimits.doneGrace` to exit by itself, so the code after its rounds loop runs; only then
/// does it get SIGTERM, and SIGKILL after `WorkerLimits.stopGrace`.
final class WorkerSupervisor {
    enum Poll: Equatable {
        case wait
        case train(TrainingWork, modelPath: String?)
        /// A central evaluator's job: score the model of `order.baseModel` (at `modelPath`).
        case evaluate(TrainingWork, modelPath: String)
        case stop
    }

    /// A training worker, or the task's central evaluator (`STARLING_ROLE=evaluate`).
    enum Role: Equatable {
        case train
        case evaluate
    }

    /// The delays of the restart and stop rules (`WorkerLimits`; shorter in tests).
    struct Timing {
        var restartDelays = WorkerLimits.restartDelays
        var doneGrace = WorkerLimits.doneGrace
        var stopGrace = WorkerLimits.stopGrace
    }

    let task: TaskID
    let worker: String
    let role: Role
    let token: String
    let log: WorkerLog
    private let loop: EventLoop
    private let launch: (TrainingWork, String) throws -> WorkerLaunch.Command
    private let answer: (FederatedWorkResult) -> Void
    private let timing: Timing
    /// Called when the supervisor is released and has no process left: its owner may forget it.
    var onStopped: (() -> Void)?
    private var process: ChildProcess?
    /// The running process was told "stop" or sent a signal: its exit is no failure.
    private var stopAsked = false
    private var restartTimer: LoopTimer?
    private var stopTimer: LoopTimer?
    /// The round owed, and the base model's local path once fetched (nil path: round 1, or fetching).
    private(set) var order: TrainingWork?
    private var modelReady = false
    private var modelPath: String?
    private var failuresInARow = 0
    private(set) var gaveUp: String?
    private(set) var released = false
    /// The last lines the running process printed, for its failure reason.
    private var standardOutput = LastLine()
    private var standardError = LastLine()
    /// The interpreter of a Python worker (for the hint when a module is missing).
    private var python: String?

    init(task: TaskID, worker: String, role: Role = .train, loop: EventLoop, log: WorkerLog, timing: Timing = Timing(),
         launch: @escaping (TrainingWork, String) throws -> WorkerLaunch.Command,
         answer: @escaping (FederatedWorkResult) -> Void) {
        self.task = task
        self.role = role
        self.timing = timing
        self.worker = worker
        self.loop = loop
        self.log = log
        self.launch = launch
        self.answer = answer
        token = WorkerLaunch.newToken()
    }

    var isRunning: Bool { process != nil }
    var pid: Int32? { process?.pid }

    /// A new round to train. The model path comes later (`modelFetched`) unless the round has none.
    func assign(_ order: TrainingWork) {
        released = false
        // Placed here again while stopping: a process that has not seen "stop" yet trains on; one
        // that has exits, and is started again at once (`exited`).
        stopTimer?.close()
        stopTimer = nil
        if let gaveUp {
            answer(.trainingFailed(task: task, worker: worker, epoch: order.epoch, round: order.round, reason: gaveUp))
            return
        }
        self.order = order
        modelReady = order.baseModel == ModelHash.none
        modelPath = nil
        startIfNeeded()
    }

    func modelFetched(_ result: Result<String, RuntimeError>, for order: TrainingWork) {
        guard self.order == order else { return }
        switch result {
        case let .success(path):
            modelPath = path
            modelReady = true
        case let .failure(error):
            self.order = nil
            answer(.trainingFailed(task: task, worker: worker, epoch: order.epoch, round: order.round,
                                   reason: "cannot fetch the base model: \(error)"))
        }
    }

    /// What the worker's `worker-poll` gets.
    func poll() -> Poll {
        if released {
            stopAsked = true
            return .stop
        }
        guard let order, modelReady else { return .wait }
        if role == .evaluate {
            guard let modelPath else { return .wait }
            return .evaluate(order, modelPath: modelPath)
        }
        return .train(order, modelPath: modelPath)
    }

    /// The evaluator sent its scores of the model it was asked about.
    func evaluationFinished() {
        order = nil
        failuresInARow = 0
    }

    /// The worker submitted (after the runner stored the update) or failed the round.
    func roundFinished(_ result: FederatedWorkResult) {
        order = nil
        if case .trained = result { failuresInARow = 0 }
        answer(result)
    }

    /// The task ended here (completed, cancelled, or the worker is no longer placed on this peer):
    /// the process is told "stop" at its next poll and has `doneGrace` to exit; then SIGTERM, then
    /// SIGKILL after `stopGrace`. `onStopped` follows its exit (at once when none runs).
    func release() {
        released = true
        order = nil
        restartTimer?.close()
        restartTimer = nil
        guard process != nil else {
            onStopped?()
            return
        }
        guard stopTimer == nil else { return }
        guard let timer = try? LoopTimer(loop: loop) else {
            // No timer to wait with (libuv refused one): stop it now rather than never.
            stopAsked = true
            process?.kill(SIGTERM)
            return
        }
        stopTimer = timer
        timer.start(after: timing.doneGrace) { [weak self] in
            guard let self, let process = self.process else { return }
            self.log.append("--- worker \(self.worker) still runs \(self.timing.doneGrace) after its task ended here: SIGTERM\n")
            self.stopAsked = true
            process.kill(SIGTERM)
            timer.start(after: self.timing.stopGrace) { [weak self] in
                self?.process?.kill(SIGKILL)
            }
        }
    }

    /// Kills the process at once and closes every handle (peer shutdown).
    func close() {
        released = true
        restartTimer?.close()
        stopTimer?.close()
        process?.close()
        process = nil
        log.close()
    }

    private func startIfNeeded() {
        guard process == nil, restartTimer == nil, let order else { return }
        let command: WorkerLaunch.Command
        do {
            command = try launch(order, token)
        } catch {
            giveUp("cannot start the worker: \(error)")
            return
        }
        log.append("--- starting worker \(worker) for round \(order.round): \(command.arguments.joined(separator: " "))\n")
        stopAsked = false
        standardOutput = LastLine()
        standardError = LastLine()
        python = command.python
        do {
            process = try ChildProcess(
                loop: loop, arguments: command.arguments, environment: command.environment, directory: command.directory,
                onOutput: { [weak self] bytes, isStandardError in self?.output(bytes, isStandardError: isStandardError) },
                onExit: { [weak self] status, signal in self?.exited(status: status, signal: signal) })
        } catch {
            giveUp("cannot start the worker: \(error)")
        }
    }

    private func output(_ bytes: [UInt8], isStandardError: Bool) {
        log.append(bytes)
        if isStandardError { standardError.append(bytes) } else { standardOutput.append(bytes) }
    }

    /// Why the process ended, as its report says it: its last line of standard error (else of
    /// standard output), and what to do when a Python worker lacks a module.
    private func failure(_ how: String) -> (reason: String, hint: String?) {
        standardOutput.finish()
        standardError.finish()
        if let python, let hint = WorkerFailureHint.hint(lastLine: standardError.line, python: python),
           let module = WorkerFailureHint.missingModule(in: standardError.line) {
            return ("worker \(how): No module named '\(module)': \(hint)", hint)
        }
        let line = standardError.line.isEmpty ? standardOutput.line : standardError.line
        return ("worker \(how)" + (line.isEmpty ? "" : ": \(line)"), nil)
    }

    private func exited(status: Int64, signal: Int32) {
        process?.close()
        process = nil
        stopTimer?.close()
        stopTimer = nil
        let how = signal != 0 ? "was killed by signal \(signal)" : "exited with status \(status)"
        log.append("--- worker \(worker) \(how)\n")
        let wasAsked = stopAsked
        stopAsked = false
        guard !released else {
            onStopped?()
            return
        }
        guard order != nil else { return }  // exited owing nothing: started again with the next round
        // Told to stop, then placed here again before it was gone: no failure, start it afresh.
        guard !wasAsked else {
            startIfNeeded()
            return
        }
        failuresInARow += 1
        let (reason, hint) = failure(how)
        if let hint { log.append("--- \(hint)\n") }
        if failuresInARow > timing.restartDelays.count {
            giveUp("\(reason) (\(failuresInARow) times in a row; not restarted)")
            return
        }
        let delay = timing.restartDelays[failuresInARow - 1]
        log.append("--- restarting in \(delay)\n")
        guard let timer = try? LoopTimer(loop: loop) else { return }
        restartTimer = timer
        timer.start(after: delay) { [weak self] in
            guard let self else { return }
            self.restartTimer?.close()
            self.restartTimer = nil
            // The round owed may have changed while waiting (the rounds go on without this worker).
            if self.order != nil { self.startIfNeeded() }
        }
    }

    private func giveUp(_ reason: String) {
        gaveUp = reason
        log.append("--- \(reason)\n")
        if let order {
            self.order = nil
            answer(.trainingFailed(task: task, worker: worker, epoch: order.epoch, round: order.round, reason: reason))
        }
    }
}
