import Foundation
import Testing

/// The simulator drives the pure cores with a virtual clock and a simulated network, so it must not
/// reach for the real ones: no libuv, SQLite, Dispatch, sockets, system clock or system randomness.
/// Foundation is allowed only where reports become JSON; a monotonic clock only to report wall time.
@Suite struct SimulatorTargetTests {
    static let allowedModules: Set<String> = [
        "StarlingPeer", "StarlingMembership", "StarlingTasks", "StarlingCrypto", "StarlingTrust", "StarlingWire", "StarlingTaskYAML", "HeapModule", "Yams",
    ]
    /// File name → extra modules or calls it may use.
    static let exceptions: [String: Set<String>] = [
        "SimulationReport+JSON.swift": ["Foundation"],
        "ScenarioRun+Report.swift": ["ContinuousClock"],
        "EngineBenchmark.swift": ["ContinuousClock"],
    ]
    static let forbiddenCalls = [
        "Date()", "DispatchQueue", "DispatchSource", "ContinuousClock", "SuspendingClock", "SystemRandomNumberGenerator",
        "Thread.sleep", "clock_gettime", "gettimeofday", ".randomElement()", ".shuffled()", ".shuffle()", "socket(",
    ]

    @Test func theSimulatorUsesNoRealClockNetworkOrStore() throws {
        let directory = PureTargetRule.packageRoot.appendingPathComponent("Sources/StarlingSimulator")
        let files = FileManager.default.enumerator(atPath: directory.path)?.compactMap { $0 as? String }
            .filter { $0.hasSuffix(".swift") } ?? []
        #expect(files.count >= 20)
        var problems: [String] = []
        for file in files {
            let name = String(file.split(separator: "/").last!)
            let allowed = Self.exceptions[name] ?? []
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.hasPrefix("//") { continue }
                if trimmed.hasPrefix("import ") {
                    let module = String(trimmed.dropFirst(7).split(separator: ".").first ?? "")
                    if !Self.allowedModules.contains(module) && !allowed.contains(module) {
                        problems.append("\(file):\(number + 1) imports \(module)")
                    }
                }
                for call in Self.forbiddenCalls where trimmed.contains(call) && !allowed.contains(call) {
                    problems.append("\(file):\(number + 1) uses \(call)")
                }
                if trimmed.contains(".random(in:") && !trimmed.contains("using:") {
                    problems.append("\(file):\(number + 1) draws from the system generator")
                }
            }
        }
        #expect(problems.isEmpty, "\(problems.joined(separator: "; "))")
    }
}
