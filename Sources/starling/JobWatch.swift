import Foundation
import StarlingLocalAPI
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Follows the tour's IncrementalLearningJob (part 3 of `starling demo`): the coordinator's train
/// trigger checks, then each step of the cycle as the job commits it (train, eval with its
/// accuracy and delta, deploy), until edge-1 serves version 2; with chaos, the job's coordinator
/// is killed (`kill -9`) once a stage runs, and the peer taking over is shown.
final class JobWatch {
    let tour: Tour
    private var shownRound: UInt64
    private var lastCheck: String?
    private var killed: (peer: String, at: Date)?
    private var tookOver = false

    init(tour: Tour) {
        self.tour = tour
        let job = tour.task(IncrementalTourLimits.job)?.job
        shownRound = job?.history.last?.round ?? 0
        lastCheck = Self.check(tour)
    }

    /// The last train-trigger check, as the job's coordinator reports it.
    private static func check(_ tour: Tour) -> String? {
        guard let coordinator = tour.task(IncrementalTourLimits.job)?.coordinatorName, tour.cluster.isRunning(coordinator) else { return nil }
        return tour.cluster.task(IncrementalTourLimits.job, from: coordinator)?.job?.trainCheck
    }

    /// Waits (bounded) for a train-trigger check that differs from the last one shown, and shows it.
    func waitForNewCheck() throws {
        let deadline = Date().addingTimeInterval(IncrementalTourLimits.checkSeconds)
        while Date() < deadline {
            try tour.checkPeers()
            if let check = Self.check(tour), check != lastCheck {
                printNow("\(tour.clock)  train trigger check (\(tour.task(IncrementalTourLimits.job)?.coordinatorName ?? "?")): \(check)")
                lastCheck = check
                return
            }
            usleep(200_000)
        }
        printNow("\(tour.clock)  train trigger check: \(lastCheck ?? "none reported") (no new check within "
            + "\(Int(IncrementalTourLimits.checkSeconds)) s)")
    }

    /// Prints each new step until edge-1 serves version 2; with chaos kills the job's coordinator
    /// once a stage runs and shows who takes over.
    func follow() throws {
        let deadline = Date().addingTimeInterval(IncrementalTourLimits.cycleSeconds)
        let cluster = tour.cluster
        while Date() < deadline {
            try tour.checkPeers()
            guard let report = tour.task(IncrementalTourLimits.job), let job = report.job else {
                usleep(100_000)
                continue
            }
            for step in job.history where step.round > shownRound {
                printNow("\(tour.clock)  \(step.text)"
                    + (report.coordinatorName.map { " (coordinator \($0))" } ?? ""))
                shownRound = step.round
            }
            if let (victim, at) = killed, !tookOver, let coordinator = report.coordinatorName, coordinator != victim {
                printNow("\(tour.clock)  \(coordinator) took over the job \(RoundWatch.fixed(Date().timeIntervalSince(at), digits: 1)) s "
                    + "after the kill and resumes the cycle from its line")
                tookOver = true
            }
            if tour.chaos, killed == nil, job.stage == "train" || job.stage == "eval", job.status == "running",
               let victim = report.coordinatorName, cluster.isRunning(victim) {
                printNow("\n\(tour.clock)  $ kill -9 \(victim)   (the job's coordinator, while \(job.stage) runs)\n")
                cluster.kill9(victim)
                killed = (victim, Date())
            }
            if job.deploysHere, job.servedVersion == 2 {
                printNow("\(tour.clock)  \(Tour.gateway) serves version 2 (hot: loaded into the running worker, no restart)")
                return
            }
            usleep(100_000)
        }
        let history = tour.task(IncrementalTourLimits.job)?.job?.history.map { "\($0.stage)/\($0.status): \($0.text)" } ?? []
        throw CLIError("version 2 did not serve within \(Int(IncrementalTourLimits.cycleSeconds)) s (history: "
            + history.joined(separator: "; ") + ")" + tour.logsHint)
    }
}
