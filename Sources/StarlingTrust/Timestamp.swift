/// Times in certificates and revocations: whole seconds since the Unix epoch (UTC).
///
/// The trust code never reads a clock: callers pass `now`, so tests and the simulator decide time.
public enum Timestamp {
    /// `2026-11-27T10:31:29Z`, computed without Foundation so pure targets can use it.
    public static func format(_ seconds: UInt64) -> String {
        let days = Int64(seconds / 86_400)
        let secondsOfDay = Int(seconds % 86_400)
        // Civil-from-days (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T"
            + "\(pad(Int64(secondsOfDay / 3600), 2)):\(pad(Int64(secondsOfDay / 60 % 60), 2)):\(pad(Int64(secondsOfDay % 60), 2))Z"
    }

    /// Parses a duration such as `365d`, `12h`, `30m`, `90s` or `2w` into seconds.
    public static func parseDuration(_ text: String) throws -> UInt64 {
        let units: [Character: UInt64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]
        guard let unitCharacter = text.last, let unit = units[unitCharacter],
              let count = UInt64(text.dropLast()), count > 0
        else {
            throw TrustError.invalidValidity("'\(text)' is not a duration (use a number and s, m, h, d or w, e.g. 365d)")
        }
        let (seconds, overflow) = count.multipliedReportingOverflow(by: unit)
        guard !overflow, seconds <= TrustLimits.validityMax else {
            throw TrustError.invalidValidity("'\(text)' is longer than the maximum of \(TrustLimits.validityMax / 86_400) days")
        }
        return seconds
    }
}
