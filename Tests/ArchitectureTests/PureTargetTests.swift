import Foundation
import Testing

/// The dependency rule of docs/architecture.md: pure cores never touch a socket, a clock, a global
/// random generator, SQLite or Dispatch, so the simulator and the libuv runtime drive the same code.
enum PureTargetRule {
    /// Targets that must stay pure. A target listed here that does not exist yet is skipped.
    static let pureTargets = [
        "StarlingWire", "StarlingCrypto", "StarlingTrust", "StarlingBlobs",
        "StarlingMembership", "StarlingTasks", "StarlingLearning", "StarlingPeer",
    ]

    /// Modules whose import breaks purity. Foundation is on the list because on Linux it brings
    /// Dispatch, threads, clocks and sockets along with it.
    static let forbiddenModules: Set<String> = [
        "Foundation", "FoundationNetworking", "FoundationEssentials", "Dispatch", "Glibc", "Musl", "Darwin",
        "CLibUV", "GRDB", "SQLite3", "CSQLite", "NIO", "NIOCore", "NIOPosix", "Network",
    ]

    /// Calls that read a clock or a global random generator.
    static let forbiddenCalls = [
        "Date()", "DispatchQueue", "ContinuousClock", "SuspendingClock", "SystemRandomNumberGenerator",
        "Thread.sleep", "clock_gettime", "gettimeofday", ".randomElement()", ".shuffled()", ".shuffle()",
    ]

    /// Problems in one source file, as "line N: what".
    static func violations(in source: String) -> [String] {
        var problems: [String] = []
        for (index, rawLine) in source.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("//") { continue }
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            if let importIndex = words.firstIndex(of: "import"),
               words[..<importIndex].allSatisfy({ $0.hasPrefix("@") || ["public", "internal", "package", "private", "fileprivate"].contains($0) }),
               importIndex + 1 < words.count {
                let module = String(words[importIndex + 1].split(separator: ".").first ?? "")
                if forbiddenModules.contains(module) { problems.append("line \(index + 1): imports \(module)") }
            }
            for call in forbiddenCalls where line.contains(call) {
                problems.append("line \(index + 1): calls \(call)")
            }
            // `.random(in:)` without `using:` draws from the system generator.
            if line.contains(".random(in:") && !line.contains("using:") {
                problems.append("line \(index + 1): calls .random(in:) without an injected generator")
            }
        }
        return problems
    }

    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
}

@Suite struct PureTargetTests {
    @Test func pureTargetsImportNoDriverAPIs() throws {
        let sources = PureTargetRule.packageRoot.appendingPathComponent("Sources")
        var checked = 0
        var problems: [String] = []
        for target in PureTargetRule.pureTargets {
            let directory = sources.appendingPathComponent(target)
            guard let files = FileManager.default.enumerator(atPath: directory.path) else { continue }
            for case let file as String in files where file.hasSuffix(".swift") {
                let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
                problems += PureTargetRule.violations(in: text).map { "\(target)/\(file) \($0)" }
                checked += 1
            }
        }
        #expect(checked >= 10, "expected to find the pure targets' sources under \(sources.path)")
        #expect(problems.isEmpty, "pure targets must not use these: \(problems.joined(separator: "; "))")
    }

    @Test func theRuleCatchesWhatItForbids() {
        #expect(PureTargetRule.violations(in: "import Dispatch").count == 1)
        #expect(PureTargetRule.violations(in: "@preconcurrency import Foundation").count == 1)
        #expect(PureTargetRule.violations(in: "import GRDB\nimport CLibUV").count == 2)
        #expect(PureTargetRule.violations(in: "let now = Date()").count == 1)
        #expect(PureTargetRule.violations(in: "let x = Int.random(in: 0..<3)").count == 1)
        #expect(PureTargetRule.violations(in: "let x = Int.random(in: 0..<3, using: &rng)").isEmpty)
        #expect(PureTargetRule.violations(in: "import StarlingWire\n// import Dispatch").isEmpty)
    }
}

/// Every peer is the `starling` binary: a module it links is loaded into every peer. Foundation's
/// networking on Linux brings libcurl and about 25 more shared libraries (about 6 MB of RSS per
/// peer, `cluster.100.rss_mb_*` in docs/benchmarks.md); HTTP is NIO's (`BlockingHTTPClient`).
@Suite struct NoFoundationNetworkingTests {
    @Test func noSourceImportsFoundationNetworking() throws {
        let sources = PureTargetRule.packageRoot.appendingPathComponent("Sources")
        guard let files = FileManager.default.enumerator(atPath: sources.path) else {
            Issue.record("no Sources under \(sources.path)")
            return
        }
        var checked = 0
        var importing: [String] = []
        for case let file as String in files where file.hasSuffix(".swift") {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            checked += 1
            let imports = text.split(separator: "\n").contains { line in
                let words = line.split(separator: " ")
                return words.firstIndex(of: "import").map { $0 + 1 < words.count && words[$0 + 1] == "FoundationNetworking" } ?? false
            }
            if imports { importing.append(file) }
        }
        #expect(checked >= 100)
        #expect(importing.isEmpty, "these import FoundationNetworking: \(importing.joined(separator: ", "))")
    }
}
