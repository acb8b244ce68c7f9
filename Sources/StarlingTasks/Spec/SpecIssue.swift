/// One problem found in a task spec: where (field path and line) and what.
///
/// The decoder collects every issue instead of stopping at the first, so a user fixes a file in
/// one pass. Errors make the spec unusable; warnings say how something was read.
public struct SpecIssue: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable, Equatable {
        case error, warning
    }

    public var severity: Severity
    /// The field, as `spec.trainingWorkers[1].workerSpec.dataset` ("" for the whole file).
    public var path: String
    /// 1-based line in the YAML text, when known.
    public var line: Int?
    public var message: String

    public init(_ severity: Severity, path: String, line: Int?, message: String) {
        self.severity = severity
        self.path = path
        self.line = line
        self.message = message
    }

    public var isError: Bool { severity == .error }

    /// `path: message`, the part tests and users compare.
    public var pathAndMessage: String { path.isEmpty ? message : "\(path): \(message)" }

    /// `line 12: error: spec.rounds: must be at least 1`.
    public var description: String {
        let location = line.map { "line \($0): " } ?? ""
        return "\(location)\(severity.rawValue): \(pathAndMessage)"
    }

    /// `file:12: error: spec.rounds: must be at least 1`, the compiler-like form for a named file.
    public func formatted(file: String) -> String {
        let location = line.map { "\(file):\($0)" } ?? file
        return "\(location): \(severity.rawValue): \(pathAndMessage)"
    }
}
