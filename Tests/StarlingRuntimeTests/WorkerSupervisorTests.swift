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
        var results: [TaskWorkResult] = []
        var stopped = false
        var starts = 0

        init(script: String, timing: WorkerSupervisor.Timing = WorkerSupervisor.Timing()) throws {
            loop = try EventLoop()
            directory = NSTemporaryDirectory() + "starling-supervisor-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            supervisor = WorkerSupervisor(
                task: Self.task, worker: "only", loop: loop, log: WorkerLog(directory: directory, worker: "only"), timing: timing,
                launch: { [unowned self] _, _ in
                    self.starts += 1
                    return WorkerLaunch.Command(arguments: ["/bin/sh", "-c", script], environment: ["PATH=/usr/bin:/bin"],
                                                directory: nil)
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

        static func order(round: UInt64 = 1) -> TrainingOrder {
            let worker = TrainingWorker(name: "only", dataset: DatasetRef(name: "digits"), script: ScriptSpec(bootFile: .builtin(.logreg)))
            let federated = FederatedTaskSpec(aggregationWorker: AggregationWorker(), trainingWorkers: [worker],
                                              rounds: RoundSettings(rounds: 10, minNodeNumber: 1))
            return TrainingOrder(task: task, spec: TaskSpec(name: "supervised", kind: .federatedTask(federated)), worker: "only",
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
        #expect(harness.supervisor.poll() == .done)
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
        #expect(harness.supervisor.poll() == .done)
        harness.supervisor.assign(Harness.order(round: 2))  // placed here again before the process is gone
        #expect(harness.loop.run(until: { harness.starts == 2 }, timeout: .seconds(10)), "\(harness.log)")
        #expect(harness.results.isEmpty && !harness.log.contains("restarting"), "\(harness.results) \(harness.log)")
    }
}
