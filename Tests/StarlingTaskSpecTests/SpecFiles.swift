import Foundation
import StarlingTaskYAML
import StarlingTasks
import Testing

/// Paths of the fixture and example files, found from this source file (no bundle resources).
enum SpecFiles {
    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let packageRoot = testsDirectory.deletingLastPathComponent().deletingLastPathComponent()

    static func fixture(_ name: String) -> String { testsDirectory.appendingPathComponent("Fixtures/\(name)").path }
    static func example(_ name: String) -> String { packageRoot.appendingPathComponent("examples/\(name)").path }

    static func text(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    /// Loads a spec that must be valid.
    static func valid(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> LoadedTaskSpec {
        switch TaskSpecLoader.load(text: text) {
        case let .success(loaded): return loaded
        case let .failure(errors):
            Issue.record("expected a valid spec, got:\n\(errors)", sourceLocation: sourceLocation)
            throw errors
        }
    }

    /// The issues of a spec that must be invalid, as "path: message".
    static func errors(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> [SpecIssue] {
        switch TaskSpecLoader.load(text: text) {
        case let .success(loaded):
            Issue.record("expected errors, got a valid spec \(loaded.spec.name)", sourceLocation: sourceLocation)
            return []
        case let .failure(errors): return errors.errors
        }
    }
}
