import StarlingMembership

/// Bytes sent per honest node per second (datagrams and streams) over the steady-state window
/// from `from` to the end of the run.
public final class TrafficMeter: SimulationObserver {
    public let from: Instant
    private var start: (bytes: UInt64, nodeSeconds: Double, time: Instant)?
    public private(set) var bytesPerNodePerSecond: Double?
    public private(set) var windowSeconds: Double = 0

    public init(from: Instant) { self.from = from }

    public func sample(_ sample: MembershipSample, in simulation: Simulation) {
        if start == nil && sample.time >= from {
            start = (simulation.statistics.honestBytesSent, simulation.honestNodeSeconds(), sample.time)
        }
    }

    public func finish(at time: Instant, in simulation: Simulation) {
        guard let start else { return }
        let nodeSeconds = simulation.honestNodeSeconds() - start.nodeSeconds
        windowSeconds = (time - start.time).seconds
        guard nodeSeconds > 0 else { return }
        bytesPerNodePerSecond = Double(simulation.statistics.honestBytesSent - start.bytes) / nodeSeconds
    }
}
