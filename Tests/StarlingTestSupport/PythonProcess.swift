import Foundation

/// Running a Python (or any program) from a test and finding one that has the modules a test needs.
public enum PythonProcess {
    /// Runs `executable` with `arguments`; its standard output and error together, and its status.
    public static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    /// The first of `candidates` that is an executable file and runs `import MODULES`; nil if none.
    public static func first(of candidates: [String?], importing modules: String) -> String? {
        for candidate in candidates.compactMap({ $0 }) where FileManager.default.isExecutableFile(atPath: candidate) {
            if (try? run(candidate, ["-c", "import \(modules)"]).status) == 0 { return candidate }
        }
        return nil
    }
}
