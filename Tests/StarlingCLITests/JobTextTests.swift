import Foundation
@testable import starling
import StarlingLocalAPI
import Testing

/// What `task status|list|watch` and `model versions` print of an IncrementalLearningJob, from a
/// hand-built report (docs/cli.md).
struct JobTextTests {
    static let node = String(repeating: "c", count: 64)
    static let initial = JobReport.Version(version: 1, model: "3d8ce1bf25d5" + String(repeating: "0", count: 52), parent: 0, cycle: 0,
                                           trainSamples: 0, evalSamples: 0, deployedAt: 1_795_788_900, metrics: nil, perClass: nil)
    static let second = JobReport.Version(
        version: 2, model: "abcdef123456" + String(repeating: "1", count: 52), parent: 1, cycle: 1, trainSamples: 400, evalSamples: 80,
        deployedAt: 1_795_789_100, metrics: ["accuracy": 0.93, "accuracy_delta": 0.05, "f1": 0.91, "f1_delta": -0.01],
        perClass: nil)

    static func step(_ round: UInt64, cycle: UInt64, _ stage: String, _ status: String, _ text: String) -> JobReport.Step {
        JobReport.Step(round: round, cycle: cycle, stage: stage, status: status, at: 1_795_788_900 + round * 10, text: text)
    }

    static func job(history: [JobReport.Step], steps: Int? = nil) -> JobReport {
        JobReport(cycle: 3, stage: "train", status: "waiting", since: 1_795_789_100, currentVersion: 2, versions: [initial, second],
                  history: history, steps: steps ?? history.count, trainCheck: "num_of_samples = 120, not num_of_samples > 500",
                  waitingFor: nil, deploysHere: true, servedVersion: 2, servingFailure: nil, dataset: "incoming",
                  deployModelName: "digits-live")
    }

    static func task(_ job: JobReport?) -> TaskReport {
        var task = TaskReport(id: String(repeating: "a", count: 64), name: "digits-incremental", kind: "IncrementalLearningJob",
                              phase: "running", submitter: node, submittedAt: 1_795_788_893, round: 5,
                              committed: (1...5).map { TaskReport.Round(round: $0, epoch: 1, coordinator: node,
                                                                        modelHash: String(repeating: "0", count: 64), participants: [],
                                                                        metrics: nil, sampleCount: nil) })
        task.job = job
        return task
    }

    @Test func statusShowsTheStageTheVersionTheCheckTheServingAndTheLatestSteps() throws {
        let history = (1...12).map { Self.step(UInt64($0), cycle: 1, "train", "running", "step number \($0)") }
        var job = Self.job(history: history, steps: 40)
        job.serving = ServingReport(roles: ["edge"], versions: ["edge": 2], requests: 10, refused: 0, examples: ["edge": 12],
                                    hardExamples: 3, hardShare: 0.25, badScores: 0, cloudServed: 0, fallbackReasons: [:],
                                    latency: ["edge": ["p50_ms": 1.5, "p99_ms": 4, "count": 10]], openCircuits: [])
        let text = TaskCommand.statusText(Self.task(job), names: [:])
        #expect(!text.contains("round ") && !text.contains("participants") && !text.contains("committed"), "\(text)")
        for line in ["stage        train waiting (cycle 3) since 2026-11-27T14:18:20Z\n",
                     "version      2 (model abcdef123456, from version 1, cycle 1)\n",
                     "metrics      accuracy 0.9300 (+0.0500), f1 0.9100 (-0.0100) on 80 rows\n",
                     "dataset      incoming; the model serves as digits-live\n",
                     "train check  num_of_samples = 120, not num_of_samples > 500\n",
                     "serving      version 2 here\n",
                     "serving      version 2 here\n  requests       10 answered, 0 refused\n",
                     "  hard share     0.2500 (3 hard examples)\n", "  latency        edge p50 1.5 ms p99 4.0 ms (10)\n",
                     "history      last 10 of 40 steps\n",
                     "  ROUND  CYCLE  STAGE  STATUS   AT                    STEP\n",
                     "  3      1      train  running  2026-11-27T14:15:30Z  step number 3\n",
                     "  12     1      train  running  2026-11-27T14:17:00Z  step number 12\n"] {
            #expect(text.contains(line), "\(line) in \(text)")
        }
        #expect(!text.contains("step number 2\n"))
        #expect(TaskCommand.progress(Self.task(Self.job(history: history))) == "v2 train/waiting")
    }

    @Test func statusBeforeTheFirstVersionAndWhenServingFailed() throws {
        var job = Self.job(history: [])
        job.currentVersion = nil
        job.versions = []
        job.since = nil
        job.trainCheck = nil
        job.waitingFor = "initial model: no model named digits is imported on a live peer"
        job.servedVersion = nil
        job.servingFailure = "the worker could not load version 1: bad tensor"
        let text = TaskCommand.statusText(Self.task(job), names: [:])
        for line in ["stage        train waiting (cycle 3)\n", "version      none yet (the initial model is version 1)\n",
                     "waiting      initial model: no model named digits is imported on a live peer\n",
                     "serving      failed: the worker could not load version 1: bad tensor\n", "history      none yet\n"] {
            #expect(text.contains(line), "\(line) in \(text)")
        }
        #expect(!text.contains("train check"))
        #expect(TaskCommand.progress(Self.task(job)) == "- train/waiting")
        job.deploysHere = false
        #expect(TaskCommand.servingText(job) == "none on this peer (not a deploy peer)")
        job.deploysHere = true
        job.servingFailure = nil
        job.servedVersion = 1
        job.currentVersion = 2
        #expect(TaskCommand.servingText(job) == "version 1 here (version 2 is current)")
        // A peer without the job's part (an older peer) says so rather than showing rounds.
        let unknown = TaskCommand.statusText(Self.task(nil), names: [:])
        #expect(unknown.contains("stage        not known to this peer\n") && !unknown.contains("round "))
        #expect(TaskCommand.progress(Self.task(nil)) == "-")
    }

    @Test func watchTellsNewStepsInWordsNotAsRounds() throws {
        let old = Self.task(Self.job(history: [Self.step(1, cycle: 0, "deploy", "completed", "deployed version 1: the initial model")]))
        var new = Self.task(Self.job(history: [
            Self.step(1, cycle: 0, "deploy", "completed", "deployed version 1: the initial model"),
            Self.step(2, cycle: 1, "train", "running", "train running on edge-1 (400 rows, 320 new training rows) from version 1"),
            Self.step(3, cycle: 1, "deploy", "waiting", "eval completed on 80 rows: accuracy 0.9300 (+0.0500)"),
        ]))
        new.job?.waitingFor = "no peer to train on"
        new.committed.append(TaskReport.Round(round: 6, epoch: 1, coordinator: Self.node, modelHash: String(repeating: "0", count: 64),
                                              participants: [], metrics: nil, sampleCount: nil))
        var reported: [String: String] = [:]
        let lines = TaskCommand.Watch.changes(from: old, to: new, names: [:], reported: &reported)
        #expect(lines == ["step 2 (cycle 1): train running on edge-1 (400 rows, 320 new training rows) from version 1",
                          "step 3 (cycle 1): eval completed on 80 rows: accuracy 0.9300 (+0.0500)",
                          "waiting: no peer to train on"], "\(lines)")
        let first = TaskCommand.Watch.changes(from: nil, to: new, names: [:], reported: &reported)
        #expect(first == ["running, no coordinator, cycle 3 train waiting, version 2"], "\(first)")
    }

    @Test func modelVersionsIsATableWithTheCurrentMarked() throws {
        let answer = ModelVersionsResponse(task: String(repeating: "a", count: 64), name: "digits-incremental",
                                           deployModelName: "digits-live", currentVersion: 2, versions: [Self.initial, Self.second])
        let text = ModelCommand.Versions.text(answer)
        #expect(text == """
            job digits-incremental aaaaaaaa, model digits-live: 2 versions, version 2 serving
            VERSION  CURRENT  MODEL         PARENT  CYCLE  TRAIN ROWS  EVAL ROWS  ACCURACY          F1                DEPLOYED (UTC)
            1                 3d8ce1bf25d5  -       0      -           -          -                 -                 2026-11-27T14:15:00Z
            2        *        abcdef123456  1       1      400         80         0.9300 (+0.0500)  0.9100 (-0.0100)  2026-11-27T14:18:20Z

            """, "\(text)")
        let none = ModelVersionsResponse(task: "b", name: "j", deployModelName: "m", currentVersion: nil, versions: [])
        #expect(ModelCommand.Versions.text(none) == "job j b, model m: 0 versions, none deployed yet\n")
    }
}
