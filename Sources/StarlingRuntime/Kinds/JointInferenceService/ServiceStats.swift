import StarlingLearning

/// What one service did on this peer, for `task status` (docs/tasks.md, "Joint inference"):
/// requests and examples by where they were answered, hard examples, bad scores, and latency
/// percentiles per path over the most recent `ServingLimits.latencySamplesMax` requests.
struct ServiceStats {
    var requests: UInt64 = 0
    var refused: UInt64 = 0
    var examples: [ComputedAt: UInt64] = [:]
    var hardExamples: UInt64 = 0
    var badScores: UInt64 = 0
    var cloudServed: UInt64 = 0
    var fallbackReasons: [String: UInt64] = [:]
    private var latencies: [ComputedAt: LatencyRing] = [:]

    mutating func record(_ path: ComputedAt, latencySeconds: Double) {
        latencies[path, default: LatencyRing()].add(latencySeconds)
    }

    /// p50 and p99 in milliseconds, by path, of the requests recorded.
    func percentiles() -> [String: [String: Double]] {
        var result: [String: [String: Double]] = [:]
        for (path, ring) in latencies where !ring.samples.isEmpty {
            let sorted = ring.samples.sorted()
            func at(_ fraction: Double) -> Double {
                sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * fraction).rounded()))] * 1_000
            }
            result[path.rawValue] = ["p50_ms": at(0.5), "p99_ms": at(0.99), "count": Double(sorted.count)]
        }
        return result
    }
}

/// The most recent latencies, bounded.
struct LatencyRing {
    private(set) var samples: [Double] = []
    private var next = 0

    mutating func add(_ value: Double) {
        if samples.count < ServingLimits.latencySamplesMax {
            samples.append(value)
        } else {
            samples[next] = value
            next = (next + 1) % samples.count
        }
    }
}
