import StarlingMembership

/// A broken invariant, with enough context to find it in a rerun.
public struct Violation: Sendable, Equatable, Codable {
    public var time: Double
    public var check: String
    public var message: String

    public init(time: Instant, check: String, message: String) {
        self.time = time.seconds
        self.check = check
        self.message = message
    }

    public var line: String { "[\(formatDecimal(time, places: 3, keepZeros: true))s] \(check): \(message)" }
}

/// A safety or liveness check that runs as an observer and collects violations.
public protocol Check: SimulationObserver {
    var name: String { get }
    var violations: [Violation] { get }
}

/// Most checks keep at most this many violations: the first ones are what matter.
let violationsKept = 20

/// Nearest-rank percentile of an ascending array (p in 0...1).
public func percentile(_ sorted: [Double], _ p: Double) -> Double? {
    guard !sorted.isEmpty else { return nil }
    let rank = Int((p * Double(sorted.count)).rounded(.up))
    return sorted[min(max(rank, 1), sorted.count) - 1]
}
