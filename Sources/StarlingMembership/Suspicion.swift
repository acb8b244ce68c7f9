import RealModule
import StarlingTrust

/// Lifeguard's suspicion timer: starts at `maximum` and shrinks toward `minimum` as independent
/// accusers confirm it, so a node that many see failing is declared dead fast while a single
/// (possibly wrong) accuser has to wait longer, giving the suspect time to refute.
struct Suspicion {
    let incarnation: UInt64
    let start: Instant
    let minimum: Duration
    let maximum: Duration
    /// Confirmations after which the timeout reaches `minimum`.
    let expectedConfirmations: Int
    /// Accusers other than the first one.
    private(set) var confirmations: Set<NodeID> = []
    let firstAccuser: NodeID

    init(incarnation: UInt64, accuser: NodeID, start: Instant, minimum: Duration, maximum: Duration,
         expectedConfirmations: Int) {
        self.incarnation = incarnation
        self.firstAccuser = accuser
        self.start = start
        self.minimum = minimum
        self.maximum = maximum
        self.expectedConfirmations = max(1, expectedConfirmations)
    }

    /// Adds an accuser; returns whether it was new (and so the deadline moved).
    mutating func confirm(by accuser: NodeID) -> Bool {
        guard accuser != firstAccuser, confirmations.count < expectedConfirmations else { return false }
        return confirmations.insert(accuser).inserted
    }

    func hasAccused(_ node: NodeID) -> Bool { node == firstAccuser || confirmations.contains(node) }

    var timeout: Duration {
        let fraction = Double.log(Double(confirmations.count + 1)) / Double.log(Double(expectedConfirmations + 1))
        let span = Double((maximum - minimum).nanoseconds)
        let shrunk = maximum - .nanoseconds(Int64(span * min(1, fraction)))
        return max(minimum, shrunk)
    }

    var deadline: Instant { start + timeout }

    /// Minimum suspicion time for a cluster of `clusterSize`: multiplier × max(1, log10 N) × probe
    /// interval (memberlist's rule), and the maximum as a multiple of it.
    static func bounds(clusterSize: Int, settings: MembershipSettings) -> (minimum: Duration, maximum: Duration) {
        let scale = max(1.0, Double.log10(Double(max(1, clusterSize))))
        let minimum = settings.probeInterval.scaled(by: settings.suspicionMultiplier * scale)
        return (minimum, minimum.scaled(by: settings.suspicionMaximumFactor))
    }
}
