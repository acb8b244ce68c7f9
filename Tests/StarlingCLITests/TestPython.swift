import Foundation
import Testing

/// The Python the suite's Python workers run with: `$STARLING_PYTHON` (bootstrap/test sets a
/// virtual environment's), else `python3`; the test stops with a clear message when it lacks numpy
/// or safetensors.
enum TestPython {
    static func withNumpy() throws -> String {
        let python = ProcessInfo.processInfo.environment["STARLING_PYTHON"] ?? "python3"
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = [python, "-c", "import numpy, safetensors"]
        try check.run()
        check.waitUntilExit()
        try #require(check.terminationStatus == 0,
                     "\(python) lacks numpy or safetensors: run the suite with bootstrap/test, or set STARLING_PYTHON to a Python that has them")
        return python
    }
}
