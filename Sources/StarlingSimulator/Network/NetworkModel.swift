import StarlingMembership

/// The random part of a datagram's delay, added to its link's base delay. Reordering falls out of
/// it: two datagrams on one link arrive out of order when the second draws less jitter.
public enum JitterDistribution: Sendable, Equatable, CustomStringConvertible {
    case none
    /// Uniform in [0, max].
    case uniform(max: Duration)
    /// Exponential with this mean: most datagrams near the base, a thin tail.
    case exponential(mean: Duration)
    /// Log-normal with this median and shape: a heavy tail (sigma 1 puts p99 near 10x the median).
    case lognormal(median: Duration, sigma: Double)

    public var description: String {
        switch self {
        case .none: return "none"
        case let .uniform(max): return "uniform(max \(formatDuration(max)))"
        case let .exponential(mean): return "exponential(mean \(formatDuration(mean)))"
        case let .lognormal(median, sigma): return "lognormal(median \(formatDuration(median)), sigma \(sigma))"
        }
    }
}

/// How the simulated network treats what nodes send.
///
/// A datagram from A to B takes `base(A, B) + jitter`, capped at `delayMax`. The base delay of a
/// link is fixed for the whole run, drawn uniformly from `baseDelayMin...baseDelayMax` by hashing
/// the seed and the (unordered) pair, so it needs no storage and does not depend on traffic.
/// Datagrams are lost with probability `loss` and delivered twice with probability `duplication`
/// (the copy draws its own delay). Streams (requests) are reliable; see `Simulation`.
public struct NetworkModel: Sendable, Equatable {
    public var baseDelayMin: Duration = .milliseconds(1)
    public var baseDelayMax: Duration = .milliseconds(1)
    public var jitter: JitterDistribution = .none
    public var delayMax: Duration = .seconds(10)
    public var loss: Double = 0
    public var duplication: Double = 0

    public init() {}

    public init(baseDelay: Duration, jitter: JitterDistribution = .none, loss: Double = 0, duplication: Double = 0) {
        baseDelayMin = baseDelay
        baseDelayMax = baseDelay
        self.jitter = jitter
        self.loss = loss
        self.duplication = duplication
    }

    /// The model in integer nanoseconds, for the hot path.
    var timing: NetworkTiming { NetworkTiming(self) }
}

/// `NetworkModel` with every duration converted once (`Duration` arithmetic is 128-bit).
struct NetworkTiming {
    let baseMin: Int64
    let baseMax: Int64
    let delayMax: Int64
    let jitter: Jitter
    let loss: Double
    let duplication: Double

    enum Jitter {
        case none
        case uniform(Double)
        case exponential(Double)
        case lognormal(Double, Double)
    }

    init(_ model: NetworkModel) {
        baseMin = model.baseDelayMin.nanoseconds
        baseMax = max(model.baseDelayMax.nanoseconds, baseMin)
        delayMax = model.delayMax.nanoseconds
        loss = model.loss
        duplication = model.duplication
        switch model.jitter {
        case .none: jitter = .none
        case let .uniform(max): jitter = .uniform(Double(max.nanoseconds))
        case let .exponential(mean): jitter = .exponential(Double(mean.nanoseconds))
        case let .lognormal(median, sigma): jitter = .lognormal(Double(median.nanoseconds), sigma)
        }
    }

    /// The fixed base delay of the link between `a` and `b` (the same both ways), in nanoseconds.
    @inline(__always)
    func baseDelay(_ a: Int, _ b: Int, linkKey: UInt64) -> Int64 {
        let low = baseMin, high = baseMax
        guard high > low else { return low }
        let pair = UInt64(truncatingIfNeeded: min(a, b)) << 32 | UInt64(truncatingIfNeeded: max(a, b))
        let hash = SeedStreams.mix(linkKey ^ SeedStreams.mix(pair))
        let fraction = Double(hash >> 11) * 0x1p-53
        return low + Int64(Double(high - low) * fraction)
    }

    /// One draw of the jitter, in nanoseconds.
    @inline(__always)
    func jitterDraw<R: RandomNumberGenerator>(_ random: inout R) -> Int64 {
        let value: Double
        switch jitter {
        case .none: return 0
        case let .uniform(max): value = DeterministicMath.unit(&random) * max
        case let .exponential(mean): value = DeterministicMath.exponential(mean: mean, &random)
        case let .lognormal(median, sigma): value = DeterministicMath.lognormal(median: median, sigma: sigma, &random)
        }
        return value >= 9e18 ? Int64.max : Int64(value)
    }

    /// A one-way delay on the link from `a` to `b`, in nanoseconds (at least 1).
    @inline(__always)
    func delay<R: RandomNumberGenerator>(_ a: Int, _ b: Int, linkKey: UInt64, _ random: inout R) -> Int64 {
        let base = baseDelay(a, b, linkKey: linkKey)
        let (total, overflow) = base.addingReportingOverflow(jitterDraw(&random))
        return Swift.max(1, Swift.min(overflow ? Int64.max : total, delayMax))
    }
}
