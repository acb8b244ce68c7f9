/// Every bound of training workers and the task runner, in one place (docs/workers.md).
public enum WorkerLimits {
    /// A worker that exits while owing an update is started again after these delays; one more
    /// failure in a row and its participant is reported failed (and not restarted for the task).
    public static let restartDelays: [Duration] = [.seconds(1), .seconds(2), .seconds(4)]
    /// When its task ends here (completed, cancelled, the worker no longer placed on this peer), a
    /// worker's polls are answered "stop" and it has this long to exit by itself (the code after
    /// its rounds loop runs: saving, reporting) before it gets SIGTERM.
    public static let doneGrace: Duration = .seconds(10)
    /// After SIGTERM, a worker has this long before SIGKILL.
    public static let stopGrace: Duration = .seconds(2)
    /// A worker's log file is rotated (to `<worker>.log.1`) past this size, so one worker keeps at
    /// most twice this on disk.
    public static let logBytesMax = 8 * 1024 * 1024
    /// Workers running at once on this peer; an order beyond it fails the round with the reason.
    public static let workersMax = 32
    /// Rounds whose aggregation a coordinator keeps at once (older ones are dropped).
    public static let aggregationsMax = 8
    /// Committed models kept per task in the store (older blobs are deleted).
    public static let modelsPerTaskMax = 20
    /// A central evaluation (docs/workers.md) may take at most this long (the task's round timeout
    /// when that is shorter); the round is then committed without the central scores.
    public static let evaluationTimeout: Duration = .seconds(120)
    /// `task logs` prints at most this much of the end of a log.
    public static let logTailBytesMax = 256 * 1024
}
