/// The bounds of the local API that its client and its server share (the server's own, such as
/// its number of clients, are in StarlingRuntime's `RuntimeLimits`).
public enum LocalAPILimits {
    /// Largest request line: a task-submit carries up to 64 KiB of spec bytes as base64 (~88 KB).
    public static let requestBytesMax = 128 * 1024
    /// Largest answer line `LocalClient` accepts (a members list of 20,000 entries is ~5 MB).
    public static let responseBytesMax = 64 * 1024 * 1024
    /// A client must send its request, and read the answer, within this time.
    public static let requestTimeout: Duration = .seconds(5)
    /// `model-export` waits this long for a model the peer lacks to be fetched before it answers
    /// that it could not (the fetch goes on); its client is kept `requestTimeout` longer.
    public static let modelExportWaitMax: Duration = .seconds(120)
    /// What a `model-export` client waits for its answer.
    public static var modelExportTimeout: Duration { modelExportWaitMax + requestTimeout * 2 }
    /// Largest line of an inference worker's connection (`worker-serve`), either way: a job with its
    /// batch, or an answer with its scores.
    public static let serveLineBytesMax = 16 << 20
    /// An inference worker must get each answer line to its peer within this time (a peer that stops
    /// reading for this long has hung).
    public static let serveAnswerTimeout: Duration = .seconds(60)
    /// `sun_path` holds 108 bytes including the terminating NUL.
    public static let unixSocketPathBytesMax = 107
}
