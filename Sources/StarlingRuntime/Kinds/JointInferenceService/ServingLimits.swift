/// Every bound of the runtime's serving (JointInferenceService's data plane), in one place
/// (docs/runtime.md, "Joint inference").
public enum ServingLimits {
    /// Examples merged into one batch for an inference worker: requests that arrive while the
    /// worker is busy wait and go together.
    public static let batchRowsMax = 256
    /// Batches written to a worker before its first answer comes back.
    public static let batchesInFlightMax = 2
    /// Examples waiting for one worker; a request beyond is refused (HTTP 429).
    public static let queuedRowsMax = 8_192
    /// A worker that exits is started again after these delays, the last one repeating: a
    /// service keeps trying to serve for as long as it runs here.
    public static let restartDelays: [Duration] = [.milliseconds(200), .seconds(1), .seconds(2), .seconds(5)]
    /// Default time a request's cloud leg may take (`cloud_timeout_ms` in the edge worker's
    /// parameters overrides it); past it, the edge's own answer is returned, marked edge-fallback.
    public static let cloudTimeoutDefault: Duration = .milliseconds(500)
    /// The most a spec may ask for the cloud leg.
    public static let cloudTimeoutMax: Duration = .seconds(30)
    /// Cloud peers tried for one request (a second when the first fails fast and time remains).
    public static let cloudAttemptsMax = 2
    /// Requests in progress on this peer (HTTP and local socket together); beyond, 429.
    public static let requestsInFlightMax = 1_024
    /// Latencies kept per path for `task status` percentiles (a ring of the most recent).
    public static let latencySamplesMax = 4_096
    /// Rows and bytes a service's `hard_examples_dataset` may hold (its registered file and
    /// arrivals together): past them new hard examples are counted and dropped, so an edge never
    /// fills its disk with them (Sedna #27).
    public static let hardExamplesMax = 10_000
    public static let hardExamplesBytesMax = 64 << 20
    /// Hard examples buffered in memory before they are written as one arrival of the dataset.
    public static let hardExamplesBatchRows = 100
    /// Longest a hard example waits in memory before its (smaller) batch is written.
    public static let hardExamplesFlushInterval: Duration = .seconds(10)
}
