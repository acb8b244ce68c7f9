/// `1.5s`, `250ms`, `80µs`: short, exact enough for tables and messages (no Foundation).
public func formatDuration(_ duration: Duration) -> String {
    formatNanoseconds(duration.nanoseconds)
}

public func formatNanoseconds(_ nanoseconds: Int64) -> String {
    let magnitude = nanoseconds.magnitude
    let sign = nanoseconds < 0 ? "-" : ""
    if magnitude >= 1_000_000_000 { return sign + formatDecimal(Double(magnitude) / 1e9, places: 3) + "s" }
    if magnitude >= 1_000_000 { return sign + formatDecimal(Double(magnitude) / 1e6, places: 3) + "ms" }
    if magnitude >= 1_000 { return sign + formatDecimal(Double(magnitude) / 1e3, places: 3) + "µs" }
    return sign + "\(magnitude)ns"
}

/// A decimal with at most `places` digits after the point, trailing zeros dropped.
public func formatDecimal(_ value: Double, places: Int, keepZeros: Bool = false) -> String {
    guard value.isFinite else { return value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf") }
    var scale = 1.0
    for _ in 0..<places { scale *= 10 }
    let scaled = (value.magnitude * scale).rounded()
    guard scaled < 9e18 else { return value < 0 ? "-\(value.magnitude)" : "\(value)" }
    let whole = UInt64(scaled) / UInt64(scale)
    var fraction = String(UInt64(scaled) % UInt64(scale))
    fraction = String(repeating: "0", count: max(0, places - fraction.count)) + fraction
    if !keepZeros { while fraction.hasSuffix("0") { fraction.removeLast() } }
    let sign = value < 0 && scaled > 0 ? "-" : ""
    return fraction.isEmpty ? "\(sign)\(whole)" : "\(sign)\(whole).\(fraction)"
}
