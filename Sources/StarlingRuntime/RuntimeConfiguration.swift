import StarlingCrypto
import StarlingMembership

/// Where and how a `PeerRuntime` runs.
public struct RuntimeConfiguration: Sendable {
    /// UDP and TCP both bind here. An IP literal (resolve names first with `AddressResolver`);
    /// port 0 picks a free port, the same for both (tests use it).
    public var listen: PeerAddress
    /// Serve the local API at DIR/starling.sock; nil for none (tests of other parts).
    public var localAPIDirectory: String?
    /// Turn SIGINT/SIGTERM into a graceful leave. Only one runtime of a process should.
    public var handlesSignals: Bool
    /// How long `.leave` may take before the runtime stops anyway.
    public var leaveGracePeriod: Duration
    /// The `starling` executable, which starts workers (`exec-worker`, `worker builtin`); nil when
    /// the runtime runs inside another program: Python and executable workers then start directly,
    /// built-in ones cannot.
    public var workerLauncher: String?
    /// The interpreter that runs `.py` workers (`WorkerPython`: the CLI's `--python`, checked);
    /// nil: `$STARLING_PYTHON`, else `python3`.
    public var workerPython: String?
    /// Serve and fetch blobs (`PeerRuntime.blobs`); nil for none.
    public var blobs: BlobSettings?

    public init(listen: PeerAddress, localAPIDirectory: String? = nil, handlesSignals: Bool = false,
                leaveGracePeriod: Duration = RuntimeLimits.leaveGracePeriod, blobs: BlobSettings? = nil) {
        self.listen = listen
        self.localAPIDirectory = localAPIDirectory
        self.handlesSignals = handlesSignals
        self.leaveGracePeriod = leaveGracePeriod
        self.blobs = blobs
    }
}

/// Where a runtime keeps blobs (the data directory's `blobs/`) and the identity that seals them.
public struct BlobSettings: Sendable {
    public var directory: String
    public var identity: SigningKey

    public init(directory: String, identity: SigningKey) {
        self.directory = directory
        self.identity = identity
    }
}
