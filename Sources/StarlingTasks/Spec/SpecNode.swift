/// A YAML document as a plain tree: mappings with their keys in source order, lists, and scalars
/// kept as their source text.
///
/// The spec decoder works on this tree rather than on a YAML library's types so that it stays
/// pure (no Foundation) and so that every value keeps the text the user wrote: `1.12` stays the
/// string "1.12" and is never rounded through a Double. Lines are 1-based, nil when unknown.
public indirect enum SpecNode: Sendable, Equatable {
    case mapping([SpecEntry], line: Int?)
    case sequence([SpecNode], line: Int?)
    case scalar(SpecScalar)

    /// A scalar written without quotes, as in `key: text`.
    public static func plain(_ text: String, line: Int? = nil) -> SpecNode {
        .scalar(SpecScalar(text: text, isPlain: true, line: line))
    }

    public var line: Int? {
        switch self {
        case let .mapping(_, line), let .sequence(_, line): return line
        case let .scalar(scalar): return scalar.line
        }
    }

    /// An empty value (`key:` with nothing after it, `~` or `null`, unquoted).
    public var isNull: Bool {
        guard case let .scalar(scalar) = self else { return false }
        return scalar.isNull
    }

    /// Words for error messages: "a mapping", "a list", "the value \"x\"".
    public var kindDescription: String {
        switch self {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case let .scalar(scalar): return scalar.isNull ? "an empty value" : "the value \"\(scalar.text.clipped)\""
        }
    }

    /// Same tree, same keys in the same order and same texts, whatever the line numbers: used to
    /// tell whether two accepted placements of the same field say the same thing.
    public func sameContent(as other: SpecNode) -> Bool {
        switch (self, other) {
        case let (.scalar(left), .scalar(right)):
            return left.text == right.text && left.isNull == right.isNull
        case let (.sequence(left, _), .sequence(right, _)):
            return left.count == right.count && zip(left, right).allSatisfy { $0.sameContent(as: $1) }
        case let (.mapping(left, _), .mapping(right, _)):
            return left.count == right.count
                && zip(left, right).allSatisfy { $0.key == $1.key && $0.value.sameContent(as: $1.value) }
        default:
            return false
        }
    }
}

/// One `key: value` line of a mapping.
public struct SpecEntry: Sendable, Equatable {
    public var key: String
    /// The line of the key (where an "unknown field" error points).
    public var keyLine: Int?
    public var value: SpecNode

    public init(key: String, keyLine: Int? = nil, value: SpecNode) {
        self.key = key
        self.keyLine = keyLine
        self.value = value
    }
}

/// A scalar as written: its text (quotes removed, escapes applied) and whether it was unquoted.
public struct SpecScalar: Sendable, Equatable {
    public var text: String
    /// False for `'quoted'`, `"quoted"` and block scalars: those are never null.
    public var isPlain: Bool
    public var line: Int?

    public init(text: String, isPlain: Bool, line: Int? = nil) {
        self.text = text
        self.isPlain = isPlain
        self.line = line
    }

    /// YAML's null: an unquoted empty value, `~` or `null`.
    public var isNull: Bool {
        isPlain && (text.isEmpty || text == "~" || text == "null" || text == "Null" || text == "NULL")
    }
}

extension String {
    /// At most 60 characters, for quoting user text inside messages.
    var clipped: String {
        count <= 60 ? self : String(prefix(57)) + "..."
    }
}
