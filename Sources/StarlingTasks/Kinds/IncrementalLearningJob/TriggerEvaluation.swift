/// A trigger's metric, as a condition names it: `accuracy`, `num_of_samples`, or one value of a
/// per-class metric, `precision[3]` (Sedna's indexed form).
public struct MetricReference: Sendable, Equatable {
    public let name: String
    public let index: Int?

    /// nil unless `text` is a name of letters, digits, `_`, `.` and `-` (1 to 64 bytes), optionally
    /// followed by `[N]` with N a non-negative integer.
    public init?(_ text: String) {
        var name = Substring(text)
        var index: Int?
        if name.hasSuffix("]"), let open = name.lastIndex(of: "[") {
            guard let number = Int(name[name.index(after: open)..<name.index(before: name.endIndex)]), number >= 0 else { return nil }
            index = number
            name = name[..<open]
        }
        let allowed = name.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
                || byte == UInt8(ascii: "-")
        }
        guard !name.isEmpty, name.utf8.count <= 64, allowed else { return nil }
        self.name = String(name)
        self.index = index
    }
}

/// A metric a trigger can read: its value (`accuracy`, `num_of_samples`, a macro average) and,
/// for a per-class metric, one value per class (`precision[3]` reads the fourth).
public struct MetricValue: Sendable, Equatable {
    public var value: Double?
    public var perClass: [Double]

    public init(_ value: Double?, perClass: [Double] = []) {
        self.value = value
        self.perClass = perClass
    }
}

/// Whether a trigger fires now (docs/tasks.md, "IncrementalLearningJob"). Pure: the caller gives
/// the time (unix seconds, UTC) and the metrics.
public enum TriggerEvaluation: Equatable, Sendable {
    /// The condition holds inside the window.
    case fires(value: Double)
    /// Outside the timer's window.
    case outsideWindow
    /// The condition does not hold; `value` is the metric's value.
    case conditionFalse(value: Double)
    /// No such metric (or index) among those given.
    case unknownMetric(String)

    public var fires: Bool { if case .fires = self { return true } else { return false } }
}

extension Trigger {
    /// Evaluates the trigger at `unix` on `metrics`.
    public func evaluate(at unix: UInt64, metrics: [String: MetricValue]) -> TriggerEvaluation {
        if let timer, !timer.contains(unix: unix) { return .outsideWindow }
        guard let reference = MetricReference(condition.metric), let metric = metrics[reference.name] else {
            return .unknownMetric(condition.metric)
        }
        let found: Double?
        if let index = reference.index {
            found = index < metric.perClass.count ? metric.perClass[index] : nil
        } else {
            found = metric.value
        }
        guard let value = found else { return .unknownMetric(condition.metric) }
        return condition.holds(for: value) ? .fires(value: value) : .conditionFalse(value: value)
    }

    /// When to check next after a check at `unix`: `checkPeriodSeconds` later (Sedna ignores it;
    /// here a job checks no more often, and no less).
    public func nextCheck(after unix: UInt64) -> UInt64 { unix + UInt64(max(1, checkPeriodSeconds)) }
}

extension TriggerTimer {
    /// Whether `unix` (UTC) falls in the window; the window includes its start minute and excludes
    /// its end minute, and one whose end is before its start spans midnight. Equal start and end:
    /// always.
    public func contains(unix: UInt64) -> Bool {
        let minute = Int((unix % 86_400) / 60)
        if startMinute == endMinute { return true }
        if startMinute < endMinute { return minute >= startMinute && minute < endMinute }
        return minute >= startMinute || minute < endMinute
    }
}

extension TriggerCondition {
    /// `value operator threshold`; NaN never holds.
    public func holds(for value: Double) -> Bool {
        guard !value.isNaN else { return false }
        switch comparison {
        case .greater: return value > threshold
        case .greaterOrEqual: return value >= threshold
        case .less: return value < threshold
        case .lessOrEqual: return value <= threshold
        case .equal: return value == threshold
        case .notEqual: return value != threshold
        }
    }
}
