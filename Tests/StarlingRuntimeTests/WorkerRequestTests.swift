import Foundation
import StarlingLocalAPI
@testable import StarlingRuntime
import Testing

/// The worker protocol's refusals and jobs on a real peer's socket (docs/workers.md, "Protocol"):
/// a worker this peer does not run is told to stop, and every refusal carries a code.
@Suite(.serialized) struct WorkerRequestTests {
    static let task = String(repeating: "ab", count: 32)

    @Test func aWorkerThePeerDoesNotRunIsToldToStopAndRefusedWithACode() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        let peer = try ModelPeer.start(on: loop, seed: 4)
        defer { peer.remove() }
        let identity: [String: Any] = ["task": Self.task, "worker": "edge-a", "token": "k"]

        let poll = try peer.request(identity.merging(["command": "worker-poll"]) { $1 }, on: loop)
        #expect(poll as NSDictionary == ["job": "stop"] as NSDictionary)

        let submit = try peer.request(identity.merging(["command": "worker-submit", "epoch": 1, "round": 1, "update": "/u",
                                                        "num_samples": 3]) { $1 }, on: loop)
        #expect(submit["code"] as? String == ErrorCode.noWorker.rawValue, "\(submit)")
        #expect(submit["error"] as? String == "this peer runs no worker edge-a for task \(Self.task.prefix(8))", "\(submit)")

        let badTask = try peer.request(["command": "worker-poll", "task": "t", "worker": "edge-a", "token": "k"], on: loop)
        #expect(badTask["code"] as? String == ErrorCode.badRequest.rawValue, "\(badTask)")

        let short = try peer.request(identity.merging(["command": "worker-fail", "epoch": 1]) { $1 }, on: loop)
        #expect(short as NSDictionary == ["code": "bad-request", "error": #"worker-fail needs "round""#] as NSDictionary)

        let logs = try peer.request(["command": "task-logs", "task": "nothing-here"], on: loop)
        #expect(logs as NSDictionary == ["code": "no-task", "error": "no task nothing-here"] as NSDictionary)
    }
}
