import Foundation
import StarlingTasks

/// Reads a task spec file: YAML text in, a validated `TaskSpec` and its warnings out, or every
/// problem found. The one driver-side job of task specs; the rules live in StarlingTasks.
public enum TaskSpecLoader {
    /// Decodes `text` (YAML). `file` only names the source in messages.
    public static func load(text: String, file: String? = nil) -> Result<LoadedTaskSpec, TaskSpecErrors> {
        switch SpecNodeBuilder.build(text) {
        case let .failure(issue):
            return .failure(TaskSpecErrors(file: file, issues: [issue]))
        case let .success(root):
            let decoding = TaskSpecDecoder.decode(root)
            guard let spec = decoding.spec else { return .failure(TaskSpecErrors(file: file, issues: decoding.issues)) }
            return .success(LoadedTaskSpec(spec: spec, warnings: decoding.warnings))
        }
    }

    /// Decodes raw bytes, which must be UTF-8 and at most `TaskSpecLimits.specBytesMax` long.
    public static func load(bytes: [UInt8], file: String? = nil) -> Result<LoadedTaskSpec, TaskSpecErrors> {
        guard bytes.count <= TaskSpecLimits.specBytesMax else {
            return .failure(TaskSpecErrors(file: file, issues: [SpecIssue(
                .error, path: "", line: nil,
                message: "the file is \(bytes.count) bytes, more than the limit of \(TaskSpecLimits.specBytesMax)")]))
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            let valid = validUTF8Prefix(bytes)
            let line = bytes[..<valid].filter { $0 == 0x0A }.count + 1
            return .failure(TaskSpecErrors(file: file, issues: [SpecIssue(
                .error, path: "", line: line, message: "not valid YAML: the file is not UTF-8 text (byte \(valid))")]))
        }
        return load(text: text, file: file)
    }

    /// Reads and decodes the file at `path`.
    public static func load(path: String) -> Result<LoadedTaskSpec, TaskSpecErrors> {
        let url = URL(fileURLWithPath: path)
        // Check the size first so a huge file is never read into memory.
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber,
           size.intValue > TaskSpecLimits.specBytesMax {
            return .failure(TaskSpecErrors(file: path, issues: [SpecIssue(
                .error, path: "", line: nil,
                message: "the file is \(size.intValue) bytes, more than the limit of \(TaskSpecLimits.specBytesMax)")]))
        }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            return .failure(TaskSpecErrors(file: path, issues: [SpecIssue(
                .error, path: "", line: nil, message: "cannot read \(path): \(reason(error))")]))
        }
        return load(bytes: [UInt8](data), file: path)
    }

    private static func validUTF8Prefix(_ bytes: [UInt8]) -> Int {
        var low = 0, high = bytes.count
        // The longest prefix that decodes; invalid bytes are rare, so a binary search is plenty.
        while low < high {
            let middle = (low + high + 1) / 2
            if String(validating: bytes[..<middle], as: UTF8.self) != nil { low = middle } else { high = middle - 1 }
        }
        return low
    }

    private static func reason(_ error: Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain,
           let code = POSIXErrorCode(rawValue: Int32(underlying.code)) {
            return "\(POSIXError(code).localizedDescription)"
        }
        return nsError.localizedDescription
    }
}

/// A spec that decoded without errors, and how some fields were read.
public struct LoadedTaskSpec: Sendable {
    public var spec: TaskSpec
    public var warnings: [SpecIssue]

    public init(spec: TaskSpec, warnings: [SpecIssue]) {
        self.spec = spec
        self.warnings = warnings
    }
}

/// Every problem of a spec that did not decode (errors, and the warnings found on the way).
public struct TaskSpecErrors: Error, Sendable, CustomStringConvertible {
    /// The file, when the spec came from one.
    public var file: String?
    public var issues: [SpecIssue]

    public init(file: String?, issues: [SpecIssue]) {
        self.file = file
        self.issues = issues
    }

    public var errors: [SpecIssue] { issues.filter(\.isError) }

    /// One line per issue, `file:line: error: path: message`.
    public var description: String {
        issues.map { issue in file.map { issue.formatted(file: $0) } ?? issue.description }.joined(separator: "\n")
    }
}
