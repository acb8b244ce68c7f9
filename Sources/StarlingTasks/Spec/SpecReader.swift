/// Reads fields of a spec tree, collecting every problem as a `SpecIssue` instead of stopping at
/// the first. Each read returns nil when the field is unusable; the issue is already recorded.
struct SpecReader {
    private(set) var issues: [SpecIssue] = []
    private var truncated = false

    var hasErrors: Bool { issues.contains(where: \.isError) }

    mutating func error(_ path: String, line: Int?, _ message: String) {
        add(SpecIssue(.error, path: path, line: line, message: message))
    }

    mutating func error(_ field: SpecField, _ message: String) { error(field.path, line: field.line, message) }

    mutating func warning(_ path: String, line: Int?, _ message: String) {
        add(SpecIssue(.warning, path: path, line: line, message: message))
    }

    mutating func warning(_ field: SpecField, _ message: String) { warning(field.path, line: field.line, message) }

    /// Reports that `key` is missing from `mapping` (`spec.trainingWorkers[1].workerSpec.dataset: missing name`).
    mutating func missing(_ key: String, in mapping: SpecMapping, _ hint: String = "") {
        error(mapping.path, line: mapping.line, "missing \(key)" + (hint.isEmpty ? "" : " (\(hint))"))
    }

    private mutating func add(_ issue: SpecIssue) {
        guard !truncated else { return }
        // A value inherited by many workers is checked once per worker: report its problem once.
        guard !issues.contains(issue) else { return }
        if issues.count >= TaskSpecLimits.issuesMax - 1 {
            truncated = true
            issues.append(SpecIssue(.error, path: "", line: nil,
                                    message: "too many problems: stopped after \(issues.count)"))
            return
        }
        issues.append(issue)
    }

    // MARK: Structure

    /// The fields of a mapping. A key not in `known` is an error naming the nearest known key when
    /// one is close; a key given twice is an error. An empty value reads as an empty mapping.
    mutating func mapping(_ field: SpecField, known: [String]) -> SpecMapping? {
        if field.node.isNull { return SpecMapping(field: field, entries: [:], keys: []) }
        guard case let .mapping(entries, _) = field.node else {
            error(field, "expected a mapping (key: value lines), got \(field.node.kindDescription)")
            return nil
        }
        var fields: [String: SpecField] = [:]
        var keys: [String] = []
        for entry in entries {
            let child = field.child(entry.key, entry.value, keyLine: entry.keyLine)
            guard known.contains(entry.key) else {
                let keyLine = entry.keyLine ?? child.line
                if let nearest = NearestName.suggestion(for: entry.key, among: known) {
                    error(child.path, line: keyLine, "unknown field (did you mean \(nearest)?)")
                } else {
                    error(child.path, line: keyLine, "unknown field (known here: \(known.joined(separator: ", ")))")
                }
                continue
            }
            if let first = fields[entry.key] {
                error(child.path, line: entry.keyLine ?? child.line,
                      "given twice" + (first.line.map { " (first on line \($0))" } ?? ""))
                continue
            }
            fields[entry.key] = child
            keys.append(entry.key)
        }
        return SpecMapping(field: field, entries: fields, keys: keys)
    }

    /// The items of a list. An empty value reads as an empty list.
    mutating func list(_ field: SpecField, limit: Int, what: String) -> [SpecField]? {
        if field.node.isNull { return [] }
        guard case let .sequence(items, _) = field.node else {
            error(field, "expected a list (lines starting with -), got \(field.node.kindDescription)")
            return nil
        }
        guard items.count <= limit else {
            error(field, "has \(items.count) \(what), more than the limit of \(limit)")
            return nil
        }
        return items.enumerated().map { field.item($0, $1) }
    }

    // MARK: Scalars

    /// The text of a scalar, or nil when it is empty (null). A mapping or list is an error.
    mutating func optionalText(_ field: SpecField, limit: Int = TaskSpecLimits.stringBytesMax) -> String? {
        guard case let .scalar(scalar) = field.node else {
            error(field, "expected a single value, got \(field.node.kindDescription)")
            return nil
        }
        if scalar.isNull { return nil }
        guard scalar.text.utf8.count <= limit else {
            error(field, "is \(scalar.text.utf8.count) bytes long, more than the limit of \(limit)")
            return nil
        }
        guard ScalarText.isPrintable(scalar.text) else {
            error(field, "must not contain control characters")
            return nil
        }
        return scalar.text
    }

    /// The text of a scalar that must not be empty.
    mutating func text(_ field: SpecField, limit: Int = TaskSpecLimits.stringBytesMax) -> String? {
        guard case .scalar = field.node else { return optionalText(field, limit: limit) }
        guard let text = optionalText(field, limit: limit) else {
            if field.node.isNull { error(field, "must not be empty") }
            return nil
        }
        guard !text.isEmpty else {
            error(field, "must not be empty")
            return nil
        }
        return text
    }

    /// A DNS-1123 label (metadata.name, worker names).
    mutating func label(_ field: SpecField) -> String? {
        guard let text = text(field) else { return nil }
        guard ScalarText.isDNSLabel(text) else {
            error(field, "must be a DNS-1123 label (lowercase letters, digits, '-', at most 63)")
            return nil
        }
        return text
    }

    /// A peer name (`nodeName`): as it appears in the peer's certificate, no spaces.
    mutating func nodeName(_ field: SpecField) -> String? {
        guard let text = text(field, limit: TaskSpecLimits.tagBytesMax) else { return nil }
        guard !text.contains(where: { $0 == " " || $0 == "\t" }) else {
            error(field, "must not contain spaces")
            return nil
        }
        return text
    }

    mutating func integer(_ field: SpecField, in range: ClosedRange<Int>) -> Int? {
        guard let text = text(field) else { return nil }
        guard let value = ScalarText.integer(text) else {
            error(field, "expected a whole number, got \"\(text.clipped)\"")
            return nil
        }
        guard range.contains(value) else {
            error(field, "\(value) is out of range (\(range.lowerBound)...\(range.upperBound))")
            return nil
        }
        return value
    }

    mutating func real(_ field: SpecField) -> Double? {
        guard let text = text(field) else { return nil }
        guard let value = ScalarText.real(text) else {
            error(field, "expected a number, got \"\(text.clipped)\"")
            return nil
        }
        return value
    }

    mutating func duration(_ field: SpecField, in range: ClosedRange<Duration>) -> Duration? {
        guard let text = text(field) else { return nil }
        guard let value = ScalarText.duration(text) else {
            error(field, "expected a duration such as 60s, 5m or 1h, got \"\(text.clipped)\"")
            return nil
        }
        guard range.contains(value) else {
            error(field, "\(text) is out of range (\(ScalarText.describe(range.lowerBound))...\(ScalarText.describe(range.upperBound)))")
            return nil
        }
        return value
    }

    // MARK: Shared shapes

    /// A `key: value` map of tags or labels, sorted by key.
    mutating func tags(_ field: SpecField) -> [TaskTag]? {
        if field.node.isNull { return [] }
        guard case let .mapping(entries, _) = field.node else {
            error(field, "expected a mapping of tag names to values, got \(field.node.kindDescription)")
            return nil
        }
        guard entries.count <= TaskSpecLimits.tagsMax else {
            error(field, "has \(entries.count) tags, more than the limit of \(TaskSpecLimits.tagsMax)")
            return nil
        }
        var tags: [TaskTag] = []
        var failed = false
        for entry in entries {
            let child = field.child(entry.key, entry.value, keyLine: entry.keyLine)
            guard !entry.key.isEmpty, entry.key.utf8.count <= TaskSpecLimits.tagBytesMax, ScalarText.isPrintable(entry.key) else {
                error(child, "tag names must be 1 to \(TaskSpecLimits.tagBytesMax) bytes of printable text")
                failed = true
                continue
            }
            if tags.contains(where: { $0.key == entry.key }) {
                error(child, "given twice")
                failed = true
                continue
            }
            guard let value = text(child, limit: TaskSpecLimits.tagBytesMax) else {
                failed = true
                continue
            }
            tags.append(TaskTag(entry.key, value))
        }
        return failed ? nil : tags.sorted()
    }

    /// `{tags: {...}}` (spec.placement, spec.coordinator).
    mutating func placement(_ field: SpecField) -> Placement? {
        guard let mapping = mapping(field, known: ["tags"]) else { return nil }
        guard let tagsField = mapping["tags"] else { return Placement() }
        return tags(tagsField).map { Placement(tags: $0) }
    }

    /// `{name: X}` (model and dataset references).
    mutating func reference(_ field: SpecField) -> String? {
        guard let mapping = mapping(field, known: ["name"]) else { return nil }
        guard let name = mapping["name"] else {
            missing("name", in: mapping)
            return nil
        }
        return text(name)
    }
}
