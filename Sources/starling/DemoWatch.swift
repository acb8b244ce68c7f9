import Foundation
import StarlingRuntime
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Follows the demo task until it completes: one line per committed round (participants, loss,
/// accuracy, coordinator), and with chaos the coordinator killed once round `chaosAfter` is in.
struct DemoWatch {
    let cluster: DemoCluster
    let rounds: Int
    let chaosAfter: Int?
    /// Generous: each round has a 60 s deadline, and a failover adds about 20 s.
    var patience: TimeInterval { Double(rounds) * 60 + 120 }

    static func fixed(_ value: Double, digits: Int = 4) -> String {
        let scale = (0..<digits).reduce(1.0) { value, _ in value * 10 }
        let rounded = (value * scale).rounded() / scale
        var text = "\(rounded)"
        let decimals = text.split(separator: ".").last.map(\.count) ?? 0
        if !text.contains(".") { text += "." }
        return text + String(repeating: "0", count: max(0, digits - decimals))
    }

    /// The final model's hash.
    func run() throws -> String {
        let start = Date()
        var shown = 0
        var killed: String?
        var lastParticipants = ""
        while Date().timeIntervalSince(start) < patience {
            guard let peer = cluster.anyLive, let task = cluster.task(from: peer) else {
                usleep(200_000)
                continue
            }
            let participants = task.participants.map { "\($0.worker)@\($0.nodeName ?? "?")" }.joined(separator: " ")
            if participants != lastParticipants && !participants.isEmpty {
                print("round \(task.announcedRound ?? task.round + 1) participants: \(participants)")
                lastParticipants = participants
            }
            for round in task.committed where round.round > UInt64(shown) {
                let metrics = round.metrics ?? [:]
                let loss = metrics["loss"].map { "loss \(Self.fixed($0))" } ?? "loss ?"
                let accuracy = metrics["accuracy"].map { ", accuracy \(Self.fixed($0))" } ?? ""
                let coordinator = task.coordinatorName ?? String(round.coordinator.prefix(8))
                let elapsed = Self.fixed(Date().timeIntervalSince(start), digits: 1)
                print("\(elapsed) s  round \(round.round) committed: \(round.participants.count) updates, "
                    + "\(round.sampleCount ?? 0) samples, \(loss)\(accuracy) (coordinator \(coordinator), epoch \(round.epoch))")
                shown = Int(round.round)
            }
            if let chaosAfter, killed == nil, shown >= chaosAfter, let victim = task.coordinatorName,
               cluster.isRunning(victim) {
                print("\n$ kill -9 \(victim)   (the coordinator, midway: another peer takes over from the last committed round)\n")
                cluster.kill9(victim)
                killed = victim
            }
            if task.phase == "completed", let last = task.committed.last {
                print("task completed in \(Self.fixed(Date().timeIntervalSince(start), digits: 1)) s: \(task.committed.count) rounds"
                    + (killed.map { " (\($0) was killed midway)" } ?? ""))
                return last.modelHash
            }
            if task.phase == "cancelled" { throw CLIError("the task was cancelled: \(task.cancelReason ?? "")") }
            if task.phase == "failed" { throw CLIError("the task failed: \(task.failure ?? "")") }
            usleep(250_000)
        }
        throw CLIError("the task did not complete within \(Int(patience)) s; logs are in \(cluster.work) (use --keep)")
    }
}
