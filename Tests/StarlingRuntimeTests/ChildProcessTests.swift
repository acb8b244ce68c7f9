import Foundation
@testable import StarlingRuntime
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Worker processes: output captured, exit status reported after the output, kill.
@Suite(.serialized) struct ChildProcessTests {
    @Test func outputAndExitStatusAreReported() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        var output: [UInt8] = []
        var errors: [UInt8] = []
        var exit: (Int64, Int32)?
        let process = try ChildProcess(
            loop: loop, arguments: ["/bin/sh", "-c", "echo out; echo err >&2; exit 3"], environment: ["PATH=/usr/bin:/bin"],
            directory: nil, onOutput: { bytes, isStandardError in if isStandardError { errors += bytes } else { output += bytes } },
            onExit: { exit = ($0, $1) })
        #expect(loop.run(until: { exit != nil }, timeout: .seconds(10)))
        #expect(exit?.0 == 3 && exit?.1 == 0)
        #expect(String(decoding: output, as: UTF8.self) == "out\n")
        #expect(String(decoding: errors, as: UTF8.self) == "err\n")
        process.close()
    }

    @Test func aKilledProcessReportsItsSignal() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        var exit: (Int64, Int32)?
        let process = try ChildProcess(
            loop: loop, arguments: ["/bin/sleep", "30"], environment: [], directory: nil, onOutput: { _, _ in },
            onExit: { exit = ($0, $1) })
        process.kill(SIGTERM)
        #expect(loop.run(until: { exit != nil }, timeout: .seconds(10)))
        #expect(exit?.1 == SIGTERM)
        process.close()
    }

    @Test func aMissingProgramIsAnError() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        #expect(throws: RuntimeError.self) {
            _ = try ChildProcess(loop: loop, arguments: ["/nonexistent/program"], environment: [], directory: nil,
                                 onOutput: { _, _ in }, onExit: { _, _ in })
        }
    }
}

extension ChildProcessTests {
    /// Through `starling exec-worker`, as a peer starts workers.
    @Test func throughExecWorkerTheExitIsReported() throws {
        let starling = try #require(ChildProcessTests.starlingBinary(), "the starling executable is built next to the tests")
        let loop = try EventLoop()
        defer { loop.close() }
        var output: [UInt8] = []
        var exit: (Int64, Int32)?
        let process = try ChildProcess(
            loop: loop, arguments: [starling, "exec-worker", "--", "/bin/sh", "-c", "echo boom >&2; exit 1"],
            environment: ["PATH=/usr/bin:/bin"], directory: nil, onOutput: { bytes, _ in output += bytes }, onExit: { exit = ($0, $1) })
        #expect(loop.run(until: { exit != nil }, timeout: .seconds(10)), "\(String(decoding: output, as: UTF8.self))")
        #expect(exit?.0 == 1)
        process.close()
    }

    static func starlingBinary() -> String? {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("starling").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return nil
    }
}
