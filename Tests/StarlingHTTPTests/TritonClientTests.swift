import Foundation
import StarlingHTTP
import StarlingTestSupport
import Testing

/// The unmodified `tritonclient[http]` Python client against a real server: the client the
/// endpoint is for, with its defaults (binary tensors both ways). Runs when the test venv
/// (`STARLING_PYTHON`, else `.build/python`) has tritonclient; bootstrap/test installs it.
@Suite struct TritonClientTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Python/tritonclient_check.py").path

    /// A Python that imports tritonclient.http, or nil.
    static let python = PythonProcess.first(
        of: [ProcessInfo.processInfo.environment["STARLING_PYTHON"], packageRoot.appendingPathComponent(".build/python/bin/python").path],
        importing: "tritonclient.http")

    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        try PythonProcess.run(executable, arguments)
    }

    @Test(.enabled(if: python != nil, "no Python with tritonclient[http]"))
    func tritonclientInfersInBinaryAndJSON() throws {
        let server = try InferenceHTTPServer(host: "127.0.0.1", port: 0, backend: FakeBackend())
        defer { server.shutdown() }
        let (status, output) = try Self.run(try #require(Self.python), [Self.script, "127.0.0.1:\(server.port)"])
        #expect(status == 0 && output.contains("tritonclient: ok"), "\(output)")
        let counters = server.counters()
        #expect(counters["http.responses.2xx"] == 8 && counters["http.refused.backend"] == 1, "\(counters)")
    }
}
