import Foundation
import Testing

/// Five peers in network namespaces made by the test, with nftables dropping 10% of UDP on input.
/// Runs where root and the tools allow it; otherwise it prints why it skipped.
@Suite(.serialized) struct NamespaceClusterTests {
    @Test func fivePeersJoinAcrossNamespacesWithLoss() throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("netns/cluster-in-namespaces.sh")
        let work = NSTemporaryDirectory() + "starling-netns-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: work) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script.path, CLIRunner.executable.path, work]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if process.terminationStatus == 77 {
            print("NamespaceClusterTests skipped: \(text.trimmingCharacters(in: .whitespacesAndNewlines))")
            return
        }
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("PASS"))
    }
}
