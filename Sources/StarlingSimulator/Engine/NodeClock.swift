/// A node's own clock: `local = offset + global + floor(global * driftPPM / 1e6)`.
///
/// Nodes only ever see their local time; a timer a node sets for local instant L fires at the
/// first global instant whose local time is at least L. Drift is in parts per million (+100 runs
/// 100 µs per second fast); it must stay above -1e6.
public struct NodeClock: Sendable, Equatable {
    let offsetNanoseconds: Int64
    /// Drift as a fraction (ppm / 1e6).
    let rate: Double

    public init(offset: Duration = .zero, driftPPM: Double = 0) {
        precondition(driftPPM > -1e6 && driftPPM < 1e6, "drift must stay within ±1e6 ppm")
        self.offsetNanoseconds = offset.nanoseconds
        self.rate = driftPPM * 1e-6
    }

    public var driftPPM: Double { rate * 1e6 }

    public static let exact = NodeClock()

    public var offset: Duration { .nanoseconds(offsetNanoseconds) }

    /// Local nanoseconds at global nanoseconds `global`. Non-decreasing in `global`.
    @inline(__always)
    public func local(_ global: Int64) -> Int64 {
        let skew = rate == 0 ? 0 : Int64((Double(global) * rate).rounded(.down))
        return offsetNanoseconds &+ global &+ skew
    }

    /// The earliest global nanosecond whose local time is at least `local`.
    @inline(__always)
    public func global(forLocal local: Int64) -> Int64 {
        if rate == 0 { return local &- offsetNanoseconds }
        var guess = Int64((Double(local &- offsetNanoseconds) / (1 + rate)).rounded(.up))
        while self.local(guess) < local { guess += 1 }
        while self.local(guess - 1) >= local { guess -= 1 }
        return guess
    }
}
