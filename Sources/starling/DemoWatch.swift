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
                let loss = metrics["loss"].map { String(format: "loss %.4f", $0) } ?? "loss ?"
                let accuracy = metrics["accuracy"].map { String(format: ", accuracy %.4f", $0) } ?? ""
                let coordinator = task.coordinatorName ?? String(round.coordinator.prefix(8))
                print(String(format: "%6.1f s  round %2d committed: %d updates, %d samples, %@%@ (coordinator %@, epoch %d)",
                             Date().timeIntervalSince(start), round.round, round.participants.count, round.sampleCount ?? 0,
                             loss, accuracy, coordinator, round.epoch))
                shown = Int(round.round)
            }
            if let chaosAfter, killed == nil, shown >= chaosAfter, let victim = task.coordinatorName,
               cluster.isRunning(victim) {
                print("\n$ kill -9 \(victim)   (the coordinator, midway: another peer takes over from the last committed round)\n")
                cluster.kill9(victim)
                killed = victim
            }
            if task.phase == "completed", let last = task.committed.last {
                print(String(format: "task completed in %.1f s: %d rounds", Date().timeIntervalSince(start), task.committed.count)
                    + (killed.map { " (\($0) was killed midway)" } ?? ""))
                return last.modelHash
            }
            if task.phase == "cancelled" { throw CLIError("the task was cancelled: \(task.cancelReason ?? "")") }
            usleep(250_000)
        }
        throw CLIError("the task did not complete within \(Int(patience)) s; logs are in \(cluster.work) (use --keep)")
    }
}
