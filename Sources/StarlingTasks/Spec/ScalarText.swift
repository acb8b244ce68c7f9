/// Reading typed values from a scalar's source text. Nothing goes through a YAML library's type
/// guessing: the spec decides the type of each field, and the text is read for that type only.
enum ScalarText {
    /// A whole number in decimal, with an optional leading `-` or `+`: `32`, `-1`. No `_`, no hex.
    static func integer(_ text: String) -> Int? {
        var digits = Substring(text)
        if digits.first == "-" || digits.first == "+" { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(text)
    }

    /// A finite decimal number: `0.01`, `1e-3`, `5`. -0 reads as 0 so equal values encode alike.
    static func real(_ text: String) -> Double? {
        guard !text.isEmpty, text.count <= 64,
              text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "." || $0 == "e" || $0 == "E" || $0 == "+" || $0 == "-") }),
              text.contains(where: { $0.isNumber }),
              let value = Double(text), value.isFinite else { return nil }
        return value + 0.0
    }

    /// `60s`, `5m`, `1.5h`, `250ms`, or a bare number of seconds (`300`); a whole number of
    /// milliseconds.
    static func duration(_ text: String) -> Duration? {
        let units: [(suffix: String, milliseconds: Double)] = [("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        var number = Substring(text)
        var scale = 1_000.0
        for unit in units where text.hasSuffix(unit.suffix) {
            let rest = text.dropLast(unit.suffix.count)
            // "ms" also ends in "s": take the unit whose rest is a number.
            if let last = rest.last, last.isNumber || last == "." {
                number = rest
                scale = unit.milliseconds
                break
            }
        }
        guard !number.isEmpty, number.count <= 20, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              let value = Double(number), value.isFinite else { return nil }
        let milliseconds = value * scale
        guard milliseconds < 1e15, milliseconds == milliseconds.rounded() else { return nil }
        return .milliseconds(Int64(milliseconds))
    }

    /// A Duration as text: whole seconds as `300s`, otherwise milliseconds.
    static func describe(_ duration: Duration) -> String {
        let milliseconds = durationMilliseconds(duration)
        return milliseconds % 1_000 == 0 ? "\(milliseconds / 1_000)s" : "\(milliseconds)ms"
    }

    /// A Duration in whole milliseconds (durations in a spec are always whole milliseconds).
    static func durationMilliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000 + attoseconds / 1_000_000_000_000_000
    }

    /// `HH:MM`, 00:00 to 23:59, as minutes after midnight.
    static func clockMinute(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2,
              let hour = integer(String(parts[0])), let minute = integer(String(parts[1])),
              parts.allSatisfy({ $0.allSatisfy(\.isNumber) }),
              (0...23).contains(hour), (0...59).contains(minute) else { return nil }
        return hour * 60 + minute
    }

    /// A DNS-1123 label: 1 to 63 of `a-z`, `0-9`, `-`, starting and ending with a letter or digit.
    static func isDNSLabel(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= TaskSpecLimits.labelBytesMax else { return false }
        func alphanumeric(_ byte: UInt8) -> Bool { (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) }
        return bytes.allSatisfy { alphanumeric($0) || $0 == 0x2D } && alphanumeric(bytes.first!) && alphanumeric(bytes.last!)
    }

    /// Text without control characters (a tab is allowed), which could forge log lines or paths.
    static func isPrintable(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { $0 == "\t" || !($0.value < 0x20 || $0.value == 0x7F || (0x80...0x9F).contains($0.value)) }
    }
}
