import Foundation
@testable import starling
import StarlingRuntime
import Testing

/// What `task status` and `task watch` print for a task, from the peer's JSON (docs/cli.md).
struct TaskWatchTextTests {
    static let node = String(repeating: "c", count: 64)

    /// A task object as the peer's `tasks` answer gives it: `rounds` committed of 20.
    static func task(phase: String, committed: ClosedRange<UInt64>?, leaseValid: Bool, announced: UInt64? = nil) throws
        -> LocalAPIProtocol.Task {
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
        return try JSONDecoder().decode(LocalAPIProtocol.Task.self, from: JSONSerialization.data(withJSONObject: object))
    }

    @Test func watchPrintsEveryCommittedRoundBeforeTheCompletion() throws {
        // One poll sees rounds 16-20 committed and the task completed (its lease lapsed too).
        let before = try Self.task(phase: "running", committed: 1...15, leaseValid: true, announced: 16)
        let after = try Self.task(phase: "completed", committed: 1...20, leaseValid: false)
        var reported: [String: String] = [:]
        let lines = TaskCommand.Watch.changes(from: before, to: after, names: [:], reported: &reported)
        #expect(lines == (16...20).map { "round \($0)/20 committed at epoch 1 by node1" } + ["phase running -> completed"])
    }

    @Test func watchPrintsTheRoundsBeforeACancellationToo() throws {
        let before = try Self.task(phase: "running", committed: 1...3, leaseValid: true)
        let after = try Self.task(phase: "cancelled", committed: 1...4, leaseValid: true)
        var reported: [String: String] = [:]
        #expect(TaskCommand.Watch.changes(from: before, to: after, names: [:], reported: &reported)
            == ["round 4/20 committed at epoch 1 by node1", "phase running -> cancelled"])
    }

    @Test func theStartStillComesFirst() throws {
        var pending = try Self.task(phase: "pending", committed: nil, leaseValid: false)
        pending.coordinator = nil
        pending.coordinatorName = nil
        pending.epoch = nil
        let running = try Self.task(phase: "running", committed: 1...1, leaseValid: true)
        var reported: [String: String] = [:]
        #expect(TaskCommand.Watch.changes(from: pending, to: running, names: [:], reported: &reported)
            == ["phase pending -> running", "coordinator node1 epoch 1", "round 1/20 committed at epoch 1 by node1"])
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
