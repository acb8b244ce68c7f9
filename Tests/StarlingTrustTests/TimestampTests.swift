import StarlingCrypto
import StarlingTrust
import Testing

@Suite("Timestamps and durations")
struct TimestampTests {
    // Expected strings checked with Python's datetime on the build machine.
    @Test("known dates", arguments: [
        (0, "1970-01-01T00:00:00Z"),
        (86_399, "1970-01-01T23:59:59Z"),
        (68_169_600, "1972-02-29T00:00:00Z"),
        (951_782_400, "2000-02-29T00:00:00Z"),
        (951_868_800, "2000-03-01T00:00:00Z"),
        (1_234_567_890, "2009-02-13T23:31:30Z"),
        (1_709_164_800, "2024-02-29T00:00:00Z"),
        (4_102_444_800, "2100-01-01T00:00:00Z"),
        (4_107_542_400, "2100-03-01T00:00:00Z"),  // 2100 is not a leap year
        (253_402_300_799, "9999-12-31T23:59:59Z"),
    ] as [(UInt64, String)])
    func known(seconds: UInt64, text: String) {
        #expect(Timestamp.format(seconds) == text)
    }

    @Test("extreme values format without trapping")
    func extremes() {
        #expect(Timestamp.format(.max).hasSuffix("Z"))
        #expect(Timestamp.format(253_402_300_800) == "10000-01-01T00:00:00Z")
    }

    /// Parses the formatted text back with a plain year-by-year count (a different algorithm from
    /// the one under test) and checks it lands on the same second.
    @Test("formatting agrees with a naive calendar over random instants")
    func againstNaiveCalendar() throws {
        func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }
        func secondsSinceEpoch(_ text: String) -> UInt64? {
            let digits = text.split(whereSeparator: { "-T:Z".contains($0) }).compactMap { Int($0) }
            guard digits.count == 6 else { return nil }
            let (year, month, day, hour, minute, second) = (digits[0], digits[1], digits[2], digits[3], digits[4], digits[5])
            var days = 0
            for y in 1970..<year { days += isLeap(y) ? 366 : 365 }
            let monthDays = [31, isLeap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
            guard (1...12).contains(month), (1...monthDays[month - 1]).contains(day) else { return nil }
            days += monthDays.prefix(month - 1).reduce(0, +) + day - 1
            return UInt64(days * 86_400 + hour * 3600 + minute * 60 + second)
        }
        var random = DeterministicRandom(seed: 61)
        for _ in 0..<2000 {
            let seconds = UInt64.random(in: 0...7_258_118_400, using: &random)  // up to 2200
            #expect(secondsSinceEpoch(Timestamp.format(seconds)) == seconds, "\(seconds)")
        }
    }

    @Test("durations", arguments: [
        ("90s", 90), ("30m", 1800), ("12h", 43_200), ("1d", 86_400), ("365d", 31_536_000), ("2w", 1_209_600),
        ("3660d", 3660 * 86_400),
    ] as [(String, UInt64)])
    func durations(text: String, seconds: UInt64) throws {
        #expect(try Timestamp.parseDuration(text) == seconds)
    }

    @Test("malformed or excessive durations are refused", arguments: [
        "", "d", "0d", "5", "5x", "-5d", "5 d", " 5d", "1.5d", "5D", "d5", "3661d", "524w",
        "99999999999999999999w", "18446744073709551615w", "18446744073709551615s",
    ])
    func badDurations(text: String) {
        #expect(throws: TrustError.self) { try Timestamp.parseDuration(text) }
    }
}
