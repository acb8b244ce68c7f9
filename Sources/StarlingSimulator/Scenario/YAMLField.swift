import Yams

/// A node of the parsed YAML with its path, so every error names the field it is about.
struct YAMLField {
    let node: Node
    let path: String
    let file: String

    var line: Int? { node.mark.map { $0.line } }

    func error(_ message: String) -> ScenarioError {
        ScenarioError(file: file, line: line, path: path, message: message)
    }

    func child(_ key: String, _ node: Node) -> YAMLField {
        YAMLField(node: node, path: path.isEmpty ? key : "\(path).\(key)", file: file)
    }

    var isScalar: Bool { if case .scalar = node { return true } else { return false } }
    var isSequence: Bool { if case .sequence = node { return true } else { return false } }
    var isMapping: Bool { if case .mapping = node { return true } else { return false } }
    var isNull: Bool { if case let .scalar(scalar) = node { return scalar.string.isEmpty || scalar.string == "~" || scalar.string == "null" } else { return false } }

    /// The keys and values of a mapping; a key not in `known` is an error listing the known ones.
    func mapping(known: [String]) throws -> [String: YAMLField] {
        guard case let .mapping(mapping) = node else { throw error("expected a mapping (key: value lines), got \(kind)") }
        var fields: [String: YAMLField] = [:]
        for (key, value) in mapping {
            guard case let .scalar(scalar) = key else { throw error("keys must be plain words") }
            let name = scalar.string
            let field = child(name, value)
            guard known.contains(name) else {
                throw YAMLField(node: key, path: field.path, file: file)
                    .error("unknown field (known here: \(known.joined(separator: ", ")))")
            }
            fields[name] = field
        }
        return fields
    }

    func sequence() throws -> [YAMLField] {
        guard case let .sequence(sequence) = node else { throw error("expected a list, got \(kind)") }
        return sequence.enumerated().map { YAMLField(node: $1, path: "\(path)[\($0)]", file: file) }
    }

    var kind: String {
        switch node {
        case let .scalar(scalar): return "'\(scalar.string)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    func string() throws -> String {
        guard case let .scalar(scalar) = node else { throw error("expected a single value, got \(kind)") }
        return scalar.string
    }

    func int(in range: ClosedRange<Int>) throws -> Int {
        let text = try string()
        guard let value = Int(text.replacingUnderscores) else { throw error("expected a whole number, got '\(text)'") }
        guard range.contains(value) else { throw error("\(value) is out of range (\(range.lowerBound)...\(range.upperBound))") }
        return value
    }

    func uint64() throws -> UInt64 {
        let text = try string()
        if text.hasPrefix("0x"), let value = UInt64(text.dropFirst(2), radix: 16) { return value }
        guard let value = UInt64(text.replacingUnderscores) else {
            throw error("expected a whole number from 0 to 2^64-1, got '\(text)'")
        }
        return value
    }

    func double(in range: ClosedRange<Double>) throws -> Double {
        let text = try string()
        guard let value = Double(text.replacingUnderscores), value.isFinite else { throw error("expected a number, got '\(text)'") }
        guard range.contains(value) else { throw error("\(text) is out of range (\(range.lowerBound)...\(range.upperBound))") }
        return value
    }

    func bool() throws -> Bool {
        switch try string().lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error("expected true or false, got \(kind)")
        }
    }

    /// `250ms`, `1.5s`, `2m`, `1h`, `800us` (or `µs`), `0`.
    func duration(max: Duration = .seconds(365 * 86_400)) throws -> Duration {
        let text = try string().trimmingSpaces
        guard let value = DurationText.parse(text) else {
            throw error("expected a duration such as 250ms, 1.5s, 2m or 1h, got '\(text)'")
        }
        guard value >= .zero else { throw error("must not be negative") }
        guard value <= max else { throw error("\(text) is longer than the maximum of \(formatDuration(max))") }
        return value
    }

    /// `0.1` or `10%`, in 0...1.
    func probability() throws -> Double {
        let text = try string().trimmingSpaces
        let value: Double?
        if text.hasSuffix("%") { value = Double(text.dropLast()).map { $0 / 100 } } else { value = Double(text) }
        guard let value, value.isFinite else { throw error("expected a probability such as 0.05 or 5%, got '\(text)'") }
        guard value >= 0 && value <= 1 else { throw error("\(text) is not between 0 and 1 (0% and 100%)") }
        return value
    }
}

/// Durations as text.
public enum DurationText {
    /// Parses `250ms`, `1.5s`, `2m`, `1h`, `800us`, `800µs`, `100ns` or `0`; nil otherwise.
    public static func parse(_ text: String) -> Duration? {
        if text == "0" { return .zero }
        let units: [(String, Double)] = [("ns", 1), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9), ("d", 86_400e9)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            // "ms" also ends in "s": only accept when what remains is a number.
            guard let value = Double(number), value.isFinite, !number.isEmpty,
                  number.allSatisfy({ $0.isNumber || $0 == "." || $0 == "-" }) else { continue }
            let nanoseconds = value * scale
            guard abs(nanoseconds) < 9e18 else { return nil }
            return .nanoseconds(Int64(nanoseconds.rounded()))
        }
        return nil
    }
}

extension String {
    var trimmingSpaces: String {
        var text = Substring(self)
        while text.first == " " { text = text.dropFirst() }
        while text.last == " " { text = text.dropLast() }
        return String(text)
    }

    var replacingUnderscores: String { String(filter { $0 != "_" }) }

    /// `a..b` split at its one `..`, both ends trimmed; nil otherwise.
    var rangeEnds: (low: String, high: String)? {
        let characters = Array(self)
        var found: Int?
        for index in 0..<max(0, characters.count - 1) where characters[index] == "." && characters[index + 1] == "." {
            guard found == nil else { return nil }
            found = index
        }
        guard let found else { return nil }
        let low = String(characters[..<found]).trimmingSpaces, high = String(characters[(found + 2)...]).trimmingSpaces
        guard !low.isEmpty, !high.isEmpty, !high.hasPrefix(".") else { return nil }
        return (low, high)
    }
}
