import Foundation
@testable import starling
import StarlingLocalAPI
import Testing

/// What `task status` and `task watch` print for a task, from the peer's JSON (docs/cli.md).
struct TaskWatchTextTests {
    static let node = String(repeating: "c", count: 64)

    /// A task object as the peer's `tasks` answer gives it: `rounds` committed of 20.
    static func task(phase: String, committed: ClosedRange<UInt64>?, leaseValid: Bool, announced: UInt64? = nil) throws
        -> TaskReport {
        var object: [String: Any] = [
            "id": String(repeating: "a", count: 64), "name": "digits", "kind": "FederatedTask", "phase": phase,
            "submitter": node, "submitterName": "node1", "submittedAt": 1_795_788_893, "coordinator": node,
            "coordinatorName": "node1", "epoch": 1, "leaseExpiresAt": 1_795_788_919, "leaseValid": leaseValid,
            "round": committed?.upperBound ?? 0, "rounds": 20, "participants": [] as [Any], "superseded": 0, "stale": 0,
            "entries": 50,
            "committed": (committed.map(Array.init) ?? []).map { round -> [String: Any] in
                ["round": round, "epoch": 1, "coordinator": node, "modelHash": String(repeating: "0", count: 64),
                 "participants": ["w0"]]
            },
        ]
        if let announced { object["announcedRound"] = announced }
        return try JSONDecoder().decode(TaskReport.self, from: JSONSerialization.data(withJSONObject: object))
    }

    @Test func watchPrintsEveryCommittedRoundBeforeTheCompletion() throws {
        // One poll sees rounds 16-20 committed and the task completed (its lease lapsed too).
        let before = try Self.task(phase: "running", committed: 1...15, leaseValid: true, announced: 16)
        let after = try Self.task(phase: "completed", committed: 1...20, leaseValid: false)
        var reported: [String: String] = [:]
        let lines = TaskCommand.Watch.changes(from: before, to: after, names: [:], reported: &reported)
        #expect(lines == (16...20).map { "round \($0)/20 committed at epoch 1 by node1 from 1 updates" } + ["phase running -> completed"])
    }

    @Test func watchPrintsTheRoundsBeforeACancellationToo() throws {
        let before = try Self.task(phase: "running", committed: 1...3, leaseValid: true)
        let after = try Self.task(phase: "cancelled", committed: 1...4, leaseValid: true)
        var reported: [String: String] = [:]
        #expect(TaskCommand.Watch.changes(from: before, to: after, names: [:], reported: &reported)
            == ["round 4/20 committed at epoch 1 by node1 from 1 updates", "phase running -> cancelled"])
    }

    @Test func theStartStillComesFirst() throws {
        var pending = try Self.task(phase: "pending", committed: nil, leaseValid: false)
        pending.coordinator = nil
        pending.coordinatorName = nil
        pending.epoch = nil
        let running = try Self.task(phase: "running", committed: 1...1, leaseValid: true)
        var reported: [String: String] = [:]
        #expect(TaskCommand.Watch.changes(from: pending, to: running, names: [:], reported: &reported)
            == ["phase pending -> running", "coordinator node1 epoch 1", "round 1/20 committed at epoch 1 by node1 from 1 updates"])
    }

    @Test func metricsAreNamedForWhatTheyMeasure() throws {
        let metrics: [String: Double] = ["loss": 0.31214, "accuracy": 0.9, "val_loss": 0.5, "central_accuracy": 0.93611,
                                         "central_f1": 0.8, "updates_rejected": 1, "custom": 2.5]
        #expect(RoundMetrics.describe(metrics) == "train loss 0.3121, local val loss 0.5000, local val accuracy 0.9000, "
            + "central accuracy 0.9361, updates rejected 1, central f1 0.8000, custom 2.5000")
        #expect(RoundMetrics.describe([:]) == "" && RoundMetrics.describe(nil) == "")
        let before = try Self.task(phase: "running", committed: 1...1, leaseValid: true)
        var after = try Self.task(phase: "running", committed: 1...2, leaseValid: true)
        after.committed[1].metrics = ["loss": 0.25, "central_accuracy": 0.875]
        var reported: [String: String] = [:]
        #expect(TaskCommand.Watch.changes(from: before, to: after, names: [:], reported: &reported)
            == ["round 2/20 committed at epoch 1 by node1 from 1 updates: train loss 0.2500, central accuracy 0.8750"])
        let status = TaskCommand.statusText(after, names: [:])
        #expect(status.contains("METRICS") && status.contains("train loss 0.2500, central accuracy 0.8750"), "\(status)")
    }

    @Test func aFailedTaskSaysWhyInStatusAndWatch() throws {
        let before = try Self.task(phase: "running", committed: 1...1, leaseValid: true, announced: 2)
        var after = try Self.task(phase: "failed", committed: 1...1, leaseValid: true)
        after.failure = "round 2 had 1 of the 2 updates it needs (min_node_number) after 4 announcements (round_retries 3); w1 on edge-1: no report"
        var reported: [String: String] = [:]
        let lines = TaskCommand.Watch.changes(from: before, to: after, names: [:], reported: &reported)
        #expect(lines.last == "phase running -> failed: \(after.failure!)", "\(lines)")
        #expect(TaskCommand.isFinished(after))
        let status = TaskCommand.statusText(after, names: [:])
        #expect(status.contains("failed       round 2 had 1 of the 2 updates"), "\(status)")
        #expect(!status.contains("lease"), "\(status)")
    }

    @Test func aFinishedTaskShowsNoLeaseWarning() throws {
        for phase in ["completed", "cancelled"] {
            let text = TaskCommand.statusText(try Self.task(phase: phase, committed: 1...20, leaseValid: false), names: [:])
            #expect(text.contains("coordinator  node1 at epoch 1\n"), "\(text)")
            #expect(!text.contains("lapsed") && !text.contains("lease"), "\(text)")
        }
        let running = TaskCommand.statusText(try Self.task(phase: "running", committed: 1...3, leaseValid: false), names: [:])
        #expect(running.contains("coordinator  node1 at epoch 1, lease lapsed (expires 2026-11-27T14:15:19Z, or the holder is down)"),
                "\(running)")
    }
}
