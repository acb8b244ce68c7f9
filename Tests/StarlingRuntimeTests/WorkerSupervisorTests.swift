import Foundation
@testable import StarlingPeer
@testable import StarlingRuntime
import StarlingTasks
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `WorkerSupervisor` on a real loop with `/bin/sh` scripts as workers: how a worker is stopped
/// when its task ends here, and what a failing worker is reported with (docs/workers.md).
@Suite(.serialized) struct WorkerSupervisorTests {
    /// A supervisor of worker `only` whose process runs `script` with /bin/sh.
    final class Harness {
        let loop: EventLoop
        let directory: String
        var supervisor: WorkerSupervisor!
        var results: [FederatedWorkResult] = []
        var stopped = false
        var starts = 0

        init(script: String, python: String? = nil, timing: WorkerSupervisor.Timing = WorkerSupervisor.Timing()) throws {
            loop = try EventLoop()
            directory = NSTemporaryDirectory() + "starling-supervisor-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            supervisor = WorkerSupervisor(
                task: Self.task, worker: "only", loop: loop, log: WorkerLog(directory: directory, worker: "only"), timing: timing,
                launch: { [unowned self] _, _ in
                    self.starts += 1
                    return WorkerLaunch.Command(arguments: ["/bin/sh", "-c", script], environment: ["PATH=/usr/bin:/bin"],
                                                directory: nil, python: python)
                },
                answer: { [unowned self] in self.results.append($0) })
            supervisor.onStopped = { [unowned self] in self.stopped = true }
        }

        func close() {
            supervisor.close()
            loop.close()
            try? FileManager.default.removeItem(atPath: directory)
        }

        var log: String { (try? String(contentsOfFile: "\(directory)/only.log", encoding: .utf8)) ?? "" }

        static let task = try! TaskID(text: String(repeating: "ab", count: 32))

        static func order(round: UInt64 = 1) -> TrainingWork {
            let worker = TrainingWorker(name: "only", dataset: DatasetRef(name: "digits"), script: ScriptSpec(bootFile: .builtin(.logreg)))
            let federated = FederatedTaskSpec(aggregationWorker: AggregationWorker(), trainingWorkers: [worker],
                                              rounds: RoundSettings(rounds: 10, minNodeNumber: 1))
            return TrainingWork(task: task, spec: TaskSpec(name: "supervised", kind: .federatedTask(federated)), worker: "only",
                                 epoch: 1, round: round, baseModel: ModelHash.none, sources: [], validate: false, deadline: 0, seed: 0)
        }
    }

    @Test func aReleasedWorkerIsToldDoneAndMayFinishByItself() throws {
        // The script stands for a worker whose rounds loop returned at "done": it runs the code
        // after the loop, then exits 0.
        let harness = try Harness(script: "sleep 0.3; echo after the rounds loop; exit 0")
        defer { harness.close() }
        harness.supervisor.assign(Harness.order())
        #expect(harness.supervisor.isRunning)
        harness.supervisor.release()
        #expect(harness.supervisor.poll() == .stop)
        #expect(!harness.stopped, "the worker is given time to exit by itself")
        #expect(harness.loop.run(until: { harness.stopped }, timeout: .seconds(10)), "stopped when the process exited")
        let log = harness.log
        #expect(log.contains("after the rounds loop\n--- worker only exited with status 0"), "\(log)")
        #expect(!log.contains("killed by signal"), "\(log)")
        #expect(harness.results.isEmpty, "a released worker is no failure: \(harness.results)")
        #expect(harness.starts == 1, "not restarted")
    }

    @Test func aWorkerThatStaysIsTerminatedAfterTheGraceThenKilled() throws {
        let timing = WorkerSupervisor.Timing(restartDelays: [], doneGrace: .milliseconds(300), stopGrace: .milliseconds(300))
        // Stays after "done", then ignores SIGTERM too (the loop of short sleeps ends once sh is killed).
        let harness = try Harness(script: "trap '' TERM; while :; do sleep 0.05; done", timing: timing)
        defer { harness.close() }
        harness.supervisor.assign(Harness.order())
        let released = ContinuousClock.now
        harness.supervisor.release()
        #expect(harness.loop.run(until: { harness.stopped }, timeout: .seconds(10)))
        let took = ContinuousClock.now - released
        #expect(took >= .milliseconds(600) && took < .seconds(5), "done grace, then stop grace: \(took)")
        let log = harness.log
        #expect(log.contains("--- worker only still runs 0.3 seconds after its task ended here: SIGTERM"), "\(log)")
        #expect(log.contains("--- worker only was killed by signal \(SIGKILL)"), "\(log)")
    }

    @Test func aWorkerToldDoneThenPlacedAgainStartsAfreshWithoutAFailure() throws {
        let harness = try Harness(script: "sleep 0.2; exit 0")
        defer { harness.close() }
        harness.supervisor.assign(Harness.order(round: 1))
        harness.supervisor.release()
        #expect(harness.supervisor.poll() == .stop)
        harness.supervisor.assign(Harness.order(round: 2))  // placed here again before the process is gone
        #expect(harness.loop.run(until: { harness.starts == 2 }, timeout: .seconds(10)), "\(harness.log)")
        #expect(harness.results.isEmpty && !harness.log.contains("restarting"), "\(harness.results) \(harness.log)")
    }

    @Test func aPythonWorkerWithoutTheLibIsReportedWithWhatToDo() throws {
        // Python prints the exception's type and its text in two writes: a reason built from
        // whatever arrived last read ": No module named 'starling'" (": :" in the report).
        let script = """
            echo 'Traceback (most recent call last):' >&2
            printf 'ModuleNotFoundError' >&2; sleep 0.1; printf ": No module named 'starling'\\n" >&2
            exit 1
            """
        let harness = try Harness(script: script, python: "/usr/bin/python3", timing: WorkerSupervisor.Timing(restartDelays: []))
        defer { harness.close() }
        harness.supervisor.assign(Harness.order())
        #expect(harness.loop.run(until: { !harness.results.isEmpty }, timeout: .seconds(10)), "\(harness.log)")
        guard case let .trainingFailed(_, _, _, _, reason)? = harness.results.first else {
            Issue.record("the round is reported failed: \(harness.results)")
            return
        }
        #expect(reason == "worker exited with status 1: No module named 'starling': the Python that runs .py workers "
            + "(/usr/bin/python3) lacks the Starling Lib: pip install ./python there, or start the peer with --python PATH "
            + "(or STARLING_PYTHON) naming one that has it (1 times in a row; not restarted)")
        #expect(harness.log.contains("--- the Python that runs .py workers (/usr/bin/python3) lacks the Starling Lib"), "\(harness.log)")
    }

    @Test func aWorkerFailureNamesItsLastLineOfStandardErrorWhateverItPrintedAfter() throws {
        let harness = try Harness(script: "echo 'boom: no accelerator' >&2; echo 'some progress'; printf 'partial'; exit 2",
                                  timing: WorkerSupervisor.Timing(restartDelays: []))
        defer { harness.close() }
        harness.supervisor.assign(Harness.order())
        #expect(harness.loop.run(until: { !harness.results.isEmpty }, timeout: .seconds(10)))
        guard case let .trainingFailed(_, _, _, _, reason)? = harness.results.first else {
            Issue.record("the round is reported failed: \(harness.results)")
            return
        }
        #expect(reason == "worker exited with status 2: boom: no accelerator (1 times in a row; not restarted)")
    }
}

/// The pieces of a failure reason: lines assembled across reads, the hint for a missing module.
struct WorkerFailureTextTests {
    @Test func aLineIsTakenOnlyOnceWhole() {
        var last = LastLine()
        last.append(Array("first line\nModuleNotFound".utf8))
        #expect(last.line == "first line")
        last.append(Array("Error: No module named 'numpy'\n\n   \n".utf8))
        #expect(last.line == "ModuleNotFoundError: No module named 'numpy'")
        last.append(Array("no newline at the end".utf8))
        #expect(last.line == "ModuleNotFoundError: No module named 'numpy'")
        last.finish()
        #expect(last.line == "no newline at the end")
        last.append(Array(String(repeating: "x", count: 5_000).utf8) + [UInt8(ascii: "\n")])
        #expect(last.line == String(repeating: "x", count: LastLine.bytesMax))
    }

    @Test func aMissingModuleGetsAHintNamingThePython() {
        let python = "/opt/venv/bin/python"
        #expect(WorkerFailureHint.hint(lastLine: "ModuleNotFoundError: No module named 'starling'", python: python)
            == "the Python that runs .py workers (/opt/venv/bin/python) lacks the Starling Lib: pip install ./python there, "
            + "or start the peer with --python PATH (or STARLING_PYTHON) naming one that has it")
        #expect(WorkerFailureHint.hint(lastLine: "ModuleNotFoundError: No module named 'safetensors.numpy'", python: python)?
            .hasPrefix("the Python that runs .py workers (/opt/venv/bin/python) lacks safetensors, which the Starling Lib needs: "
                + "pip install ./python there (it brings numpy and safetensors)") == true)
        #expect(WorkerFailureHint.hint(lastLine: "ModuleNotFoundError: No module named 'torch'", python: python)?
            .hasPrefix("the Python that runs .py workers (/opt/venv/bin/python) lacks torch, which the worker imports: install it there") == true)
        #expect(WorkerFailureHint.hint(lastLine: "ValueError: boom", python: python) == nil)
        #expect(WorkerFailureHint.hint(lastLine: "No module named ''", python: python) == nil)
    }

    @Test func theFlagWinsOverTheVariableWhichWinsOverPython3() {
        #expect(WorkerPython.choose(flag: "/a/python", environment: ["STARLING_PYTHON": "/b/python"])
            == WorkerPython(command: "/a/python", source: .flag))
        #expect(WorkerPython.choose(flag: nil, environment: ["STARLING_PYTHON": "/b/python"])
            == WorkerPython(command: "/b/python", source: .environment))
        #expect(WorkerPython.choose(flag: nil, environment: ["STARLING_PYTHON": ""]) == WorkerPython(command: "python3", source: .fallback))
        #expect(WorkerPython(command: "sh", source: .flag).locate(path: "/nonexistent:/bin") == "/bin/sh")
        #expect(WorkerPython(command: "sh", source: .flag).locate(path: "/nonexistent") == nil)
        #expect(WorkerPython(command: "../bin/sh", source: .flag).locate(directory: "/usr") == "/bin/sh")
        #expect(WorkerPython(command: "/bin", source: .flag).locate() == nil, "a directory is no interpreter")
    }

    @Test func aSymlinkedInterpreterIsKeptAsNamed() throws {
        // A virtual environment's bin/python is a symlink: run through its target, Python would
        // not see the environment (nor the Lib installed in it).
        let directory = NSTemporaryDirectory() + "starling-python-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: "\(directory)/venv/bin", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createSymbolicLink(atPath: "\(directory)/venv/bin/python", withDestinationPath: "/bin/sh")
        #expect(WorkerPython(command: "venv/bin/python", source: .flag).locate(directory: directory) == "\(directory)/venv/bin/python")
        #expect(WorkerLaunch.absolute("./venv/bin/../bin/python", in: directory) == "\(directory)/venv/bin/python")
    }
}
