import Foundation
import StarlingLocalAPI
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Follows a task on a local cluster until it completes (`starling demo`, `starling task
/// run-local`): the participants when they change, one line per committed round (updates,
/// samples, metrics named as `task watch` names them, coordinator), one per failed round of a
/// worker, and with chaos the coordinator killed once round `chaosAfter` is in. Ends with an error
/// when the task is cancelled or fails, when a worker's peer gives up on it (nothing would train
/// its data any more), when a peer exits by itself, or when `patience` passes.
struct RoundWatch {
    /// Lines of a log shown when a worker or a peer ends the run.
    static let logTailLines = 20

    /// The task failed, or a worker failed for good: the training went wrong, not the watching.
    struct TaskFailed: Error, CustomStringConvertible {
        let description: String
    }

    let cluster: LocalCluster
    let task: String
    let patience: TimeInterval
    var chaosAfter: Int?
    /// Follows the timeout's error message (where the logs are, how to wait longer).
    var timeoutHint = ""

    static func fixed(_ value: Double, digits: Int = 4) -> String {
        let scale = (0..<digits).reduce(1.0) { value, _ in value * 10 }
        let rounded = (value * scale).rounded() / scale
        var text = "\(rounded)"
        let decimals = text.split(separator: ".").last.map(\.count) ?? 0
        if !text.contains(".") { text += "." }
        return text + String(repeating: "0", count: max(0, digits - decimals))
    }

    /// The completed task.
    func run() throws -> TaskReport {
        let start = Date()
        var shown = 0
        var killed: String?
        var lastParticipants = ""
        var failures: Set<String> = []
        while Date().timeIntervalSince(start) < patience {
            if let (name, how) = cluster.unexpectedExits().first {
                let tail = cluster.logTail(name, lines: Self.logTailLines)
                if !tail.isEmpty { FileHandle.standardError.write(Data("the end of \(name)'s log:\n\(tail)\n".utf8)) }
                throw CLIError("the peer \(name) \(how)")
            }
            guard let peer = cluster.anyLive, let task = cluster.task(self.task, from: peer) else {
                usleep(200_000)
                continue
            }
            for round in task.committed where round.round > UInt64(shown) {
                let coordinator = task.coordinatorName ?? String(round.coordinator.prefix(8))
                let elapsed = Self.fixed(Date().timeIntervalSince(start), digits: 1)
                let metrics = RoundMetrics.describe(round.metrics)
                printNow("\(elapsed) s  round \(round.round) committed: \(round.participants.count) updates, "
                    + "\(round.sampleCount ?? 0) samples\(metrics.isEmpty ? "" : ", \(metrics)") "
                    + "(coordinator \(coordinator), epoch \(round.epoch))")
                shown = Int(round.round)
            }
            // After the commits: the participants are those of the round announced after them.
            let participants = task.participants.map { "\($0.worker)@\($0.nodeName ?? "?")" }.joined(separator: " ")
            if participants != lastParticipants && !participants.isEmpty {
                printNow("round \(task.announcedRound ?? task.round + 1) participants: \(participants)")
                lastParticipants = participants
            }
            for participant in task.participants where participant.state == "failed" {
                let message = participant.message ?? ""
                let node = participant.nodeName ?? String(participant.node.prefix(8))
                if isGivenUp(participant, of: task) {
                    FileHandle.standardError.write(Data(workerLogTail(task, worker: participant.worker, peer: node).utf8))
                    throw TaskFailed(description: "\(node) gave up on worker \(participant.worker): \(message)")
                }
                guard failures.insert("\(participant.worker) \(participant.round ?? 0) \(message)").inserted else { continue }
                printNow("round \(participant.round.map(String.init) ?? "?"): \(participant.worker) on \(node) failed: \(message)")
            }
            if let chaosAfter, killed == nil, shown >= chaosAfter, let victim = task.coordinatorName,
               cluster.isRunning(victim) {
                printNow("\n$ kill -9 \(victim)   (the coordinator, midway: another peer takes over from the last committed round)\n")
                cluster.kill9(victim)
                killed = victim
            }
            if task.phase == "completed", task.committed.last != nil {
                printNow("task completed in \(Self.fixed(Date().timeIntervalSince(start), digits: 1)) s: \(task.committed.count) rounds"
                    + (killed.map { " (\($0) was killed midway)" } ?? ""))
                return task
            }
            if task.phase == "cancelled" { throw CLIError("the task was cancelled: \(task.cancelReason ?? "")") }
            if task.phase == "failed" { throw TaskFailed(description: "the task failed: \(task.failure ?? "")") }
            usleep(250_000)
        }
        let last = cluster.anyLive.flatMap { cluster.task(task, from: $0) }
        let progress = last.map { " (round \($0.round) of \($0.rounds) committed)" } ?? " (no peer holds it)"
        throw CLIError("the task did not complete within \(Int(patience)) s\(progress)\(timeoutHint)")
    }

    /// Whether the failed worker's peer gave up on it: it could not be started, or it crashed once
    /// more than `WorkerLimits.restartDelays` allows. Such a worker fails every later round at once.
    /// Only the peer running it knows (`gaveUp`): it is asked when it is not the one watched.
    private func isGivenUp(_ participant: TaskReport.Participant, of task: TaskReport) -> Bool {
        if let gaveUp = participant.gaveUp { return gaveUp }
        guard let peer = participant.nodeName, cluster.isRunning(peer), let held = cluster.task(self.task, from: peer),
              let seen = held.participants.first(where: { $0.worker == participant.worker }) else { return false }
        return seen.gaveUp == true
    }

    /// The end of what a worker printed, as its peer logged it (`task logs`), for standard error.
    private func workerLogTail(_ task: TaskReport, worker: String, peer: String) -> String {
        guard let answer = try? cluster.request(peer, .taskLogs(task: task.id, worker: worker), as: TaskLogsResponse.self),
              let text = answer.logs.first?.text else { return "" }
        let tail = text.split(separator: "\n").suffix(Self.logTailLines).joined(separator: "\n")
        return "the end of worker \(worker)'s log on \(peer):\n\(tail)\n"
    }
}
