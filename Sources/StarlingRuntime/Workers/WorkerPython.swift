import Foundation

/// Which Python runs `.py` workers (docs/workers.md): `starling peer --python PATH`, else
/// `$STARLING_PYTHON`, else `python3` from PATH. The peer checks its choice when it starts, so a
/// wrong one is an error there rather than a worker that fails at its first round.
public struct WorkerPython: Equatable, Sendable {
    public enum Source: Equatable, Sendable {
        case flag
        case environment
        case fallback

        /// How an error names where the choice came from.
        public var name: String {
            switch self {
            case .flag: return "--python"
            case .environment: return "STARLING_PYTHON"
            case .fallback: return "python3"
            }
        }
    }

    /// As given: a path, or a name searched in PATH.
    public let command: String
    public let source: Source

    public static let variable = "STARLING_PYTHON"
    public static let fallback = "python3"

    /// The flag wins over the variable (when set and not empty), which wins over `python3`.
    public static func choose(flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> WorkerPython {
        if let flag { return WorkerPython(command: flag, source: .flag) }
        if let value = environment[variable], !value.isEmpty { return WorkerPython(command: value, source: .environment) }
        return WorkerPython(command: fallback, source: .fallback)
    }

    /// The absolute path of the executable file `command` names (a name is searched in `path`, the
    /// PATH variable; a relative path is relative to `directory`); nil when there is none.
    public func locate(path: String? = ProcessInfo.processInfo.environment["PATH"],
                       directory: String = FileManager.default.currentDirectoryPath) -> String? {
        let files = FileManager.default
        func executable(_ candidate: String) -> Bool {
            var isDirectory: ObjCBool = false
            return files.fileExists(atPath: candidate, isDirectory: &isDirectory) && !isDirectory.boolValue
                && files.isExecutableFile(atPath: candidate)
        }
        if command.contains("/") {
            let absolute = WorkerLaunch.absolute(command, in: directory)
            return executable(absolute) ? absolute : nil
        }
        for folder in (path ?? "").split(separator: ":", omittingEmptySubsequences: true) {
            let candidate = WorkerLaunch.absolute(command, in: String(folder))
            if executable(candidate) { return candidate }
        }
        return nil
    }
}
