import StarlingTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `starling peer` and `starling members`, run as real processes. Their names and flags are a contract.
@Suite(.serialized) struct PeerCommandTests {
    /// A data directory with identity.key, certificate and authority.pub, as an operator sets it up.
    static func admittedNode(_ cli: CLIRunner, name: String, roles: String = "peer") throws -> (directory: String, nodeID: String) {
        let directory = cli.path(name)
        let nodeID = try cli.run("keys", "generate", "--out", "\(directory)/identity.key").stdout
        if !FileManager.default.fileExists(atPath: cli.path("auth/authority.pub")) {
            try cli.run("authority", "init", "--dir", cli.path("auth"))
        }
        let admitted = try cli.run("authority", "admit", "--dir", cli.path("auth"), nodeID, "--name", name,
                                   "--roles", roles, "--out", "\(directory)/certificate")
        #expect(admitted.status == 0, "\(admitted.stderr)")
        try FileManager.default.copyItem(atPath: cli.path("auth/authority.pub"), toPath: "\(directory)/authority.pub")
        return (directory, nodeID)
    }

    /// A loopback port that was free a moment ago.
    static func freePort() -> UInt16 { unusedLoopbackPort() }

    /// Starts `starling peer` in the background; its log goes to a file (a pipe nobody reads could fill).
    static func startPeer(_ cli: CLIRunner, _ arguments: [String], log: String) throws -> Process {
        let process = Process()
        process.executableURL = CLIRunner.executable
        process.arguments = ["peer"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: cli.directory)
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Polls until `condition` holds or `seconds` pass (bounded; CI machines are slow).
    static func wait(seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(100_000)
        }
        return try condition()
    }

    @Test func sigtermLeavesGracefullyThenExits() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        let (directory, nodeID) = try Self.admittedNode(cli, name: "edge-1")
        let log = cli.path("peer.log")
        var peer: Process?
        var port: UInt16 = 0
        // The port was free a moment ago; if something took it meanwhile, try another.
        for _ in 0..<3 {
            port = Self.freePort()
            let process = try Self.startPeer(cli, ["--data-dir", directory, "--listen", "127.0.0.1:\(port)", "--tags", "zone=lab"], log: log)
            if try Self.wait(seconds: 30, { try !process.isRunning || cli.run("members", "--peer", directory, "--json").status == 0 }),
               process.isRunning {
                peer = process
                break
            }
        }
        let process = try #require(peer, "the peer did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

        let json = try cli.run("members", "--peer", directory, "--json")
        #expect(json.status == 0)
        let members = try #require(
            (try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])?["members"] as? [[String: Any]])
        #expect(members.count == 1)
        #expect(members.first?["name"] as? String == "edge-1")
        #expect(members.first?["node"] as? String == nodeID)
        #expect(members.first?["address"] as? String == "127.0.0.1:\(port)")
        #expect(members.first?["state"] as? String == "alive")
        #expect(members.first?["local"] as? Bool == true)
        #expect((members.first?["tags"] as? [String: String]) == ["zone": "lab"])

        let table = try cli.run("members", "--peer", directory)
        let lines = table.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.split(separator: " ", omittingEmptySubsequences: true)
            == ["NAME", "NODE", "ADDRESS", "STATE", "INCARNATION", "TAGS"])
        #expect(lines.count == 2 && lines[1].hasPrefix("edge-1 "))
        #expect(lines[1].contains(String(nodeID.prefix(16))) && !lines[1].contains(String(nodeID.prefix(17))))
        #expect(lines[1].contains("alive") && lines[1].hasSuffix("zone=lab"))

        // $STARLING_DATA_DIR stands in for --peer.
        let viaEnvironment = Process()
        viaEnvironment.executableURL = CLIRunner.executable
        viaEnvironment.arguments = ["members", "--json"]
        viaEnvironment.environment = ProcessInfo.processInfo.environment.merging(["STARLING_DATA_DIR": directory]) { $1 }
        let output = Pipe()
        viaEnvironment.standardOutput = output
        try viaEnvironment.run()
        let environmentJSON = output.fileHandleForReading.readDataToEndOfFile()
        viaEnvironment.waitUntilExit()
        #expect(viaEnvironment.terminationStatus == 0 && String(decoding: environmentJSON, as: UTF8.self).contains(nodeID))

        // A second peer on the same data directory is refused.
        let second = try cli.run("peer", "--data-dir", directory, "--listen", "127.0.0.1:\(Self.freePort())")
        #expect(second.status != 0 && second.stderr.contains("another peer is already running with data directory"))

        kill(process.processIdentifier, SIGTERM)
        #expect(Self.wait(seconds: 30) { !process.isRunning })
        guard !process.isRunning else { return }
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
        let text = try String(contentsOfFile: log, encoding: .utf8)
        #expect(text.contains("SIGTERM: leaving the cluster"), "\(text)")
        #expect(text.contains("left the cluster"), "\(text)")
        #expect(text.contains("stopped (left)"), "\(text)")
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/starling.sock"))
    }

    @Test func clearErrorsForWhatIsMissing() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        let none = try cli.run("members", "--peer", cli.path("nowhere"))
        #expect(none.status == 1)
        #expect(none.stderr.contains("no peer is running with data directory \(cli.path("nowhere")) "
            + "(\(cli.path("nowhere"))/starling.sock not found); start one with `starling peer --data-dir \(cli.path("nowhere")) ...`"))

        let empty = cli.path("empty")
        let noIdentity = try cli.run("peer", "--data-dir", empty, "--listen", "127.0.0.1:7946")
        #expect(noIdentity.status == 1 && noIdentity.stderr.contains("starling keys generate --out \(empty)/identity.key"))

        let nodeID = try cli.run("keys", "generate", "--out", "\(empty)/identity.key").stdout
        let noAuthority = try cli.run("peer", "--data-dir", empty, "--listen", "127.0.0.1:7946")
        #expect(noAuthority.stderr.contains("\(empty)/authority.pub: no such file; copy authority.pub"))

        try cli.run("authority", "init", "--dir", cli.path("auth"))
        try FileManager.default.copyItem(atPath: cli.path("auth/authority.pub"), toPath: "\(empty)/authority.pub")
        let noCertificate = try cli.run("peer", "--data-dir", empty, "--listen", "127.0.0.1:7946")
        #expect(noCertificate.stderr.contains("\(empty)/certificate: no such file"))
        #expect(noCertificate.stderr.contains("starling authority admit --dir AUTHORITY_DIR \(nodeID)"))

        // A certificate for another node, then one without the peer role.
        let otherID = try cli.run("keys", "generate", "--out", cli.path("other.key")).stdout
        try cli.run("authority", "admit", "--dir", cli.path("auth"), otherID, "--name", "other", "--roles", "peer",
                    "--out", "\(empty)/certificate")
        let wrongNode = try cli.run("peer", "--data-dir", empty, "--listen", "127.0.0.1:7946")
        #expect(wrongNode.stderr.contains("is for node \(otherID), but \(empty)/identity.key is node \(nodeID)"))
        try FileManager.default.removeItem(atPath: "\(empty)/certificate")
        try cli.run("authority", "admit", "--dir", cli.path("auth"), nodeID, "--name", "n", "--roles", "submit",
                    "--out", "\(empty)/certificate")
        let noRole = try cli.run("peer", "--data-dir", empty, "--listen", "127.0.0.1:7946")
        #expect(noRole.stderr.contains("invalid certificate: the certificate lacks the role(s) peer"), "\(noRole.stderr)")

        try FileManager.default.removeItem(atPath: "\(empty)/certificate")
        try cli.run("authority", "admit", "--dir", cli.path("auth"), nodeID, "--name", "n", "--roles", "peer",
                    "--out", "\(empty)/certificate")
        let unspecified = try cli.run("peer", "--data-dir", empty, "--listen", "0.0.0.0:7946")
        #expect(unspecified.stderr.contains("also give --advertise HOST:PORT"))
        let badAddress = try cli.run("peer", "--data-dir", empty, "--listen", "127.0.0.1")
        #expect(badAddress.stderr.contains("--listen: '127.0.0.1' is not an address"))
        let badTags = try cli.run("peer", "--data-dir", empty, "--listen", "127.0.0.1:7946", "--tags", "zone")
        #expect(badTags.stderr.contains("--tags: 'zone' is not KEY=VALUE"))
        for result in [none, noIdentity, noAuthority, noCertificate, wrongNode, noRole, unspecified, badAddress, badTags] {
            #expect(!result.stderr.contains("Fatal error") && result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        }
    }

    @Test func aPythonForWorkersThatIsNotThereIsRefusedAtStart() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        let (directory, _) = try Self.admittedNode(cli, name: "edge-1")
        func peer(_ extra: [String], python variable: String?) throws -> CLIRunner.Result {
            let process = Process()
            process.executableURL = CLIRunner.executable
            process.arguments = ["peer", "--data-dir", directory, "--listen", "127.0.0.1:\(Self.freePort())"] + extra
            var environment = ProcessInfo.processInfo.environment
            environment["STARLING_PYTHON"] = variable
            process.environment = environment
            let err = Pipe()
            process.standardError = err
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            let stderr = err.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return CLIRunner.Result(status: process.terminationStatus, stdout: "",
                                    stderr: String(decoding: stderr, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let missing = try peer(["--python", cli.path("nowhere/python3")], python: nil)
        #expect(missing.status == 1 && missing.stderr == "Error: --python \(cli.path("nowhere/python3")): \(cli.path("nowhere/python3")) "
            + "is not an executable file; name the Python that runs .py workers (one with the Starling Lib: pip install ./python)",
                "\(missing.stderr)")
        let notInPath = try peer(["--python", "no-such-python-here"], python: nil)
        #expect(notInPath.status == 1 && notInPath.stderr.contains("--python no-such-python-here: no-such-python-here is not an executable in PATH"),
                "\(notInPath.stderr)")
        let variable = try peer([], python: "/nonexistent/python")
        #expect(variable.status == 1 && variable.stderr.contains("STARLING_PYTHON=/nonexistent/python: /nonexistent/python is not an executable file"),
                "\(variable.stderr)")
        for result in [missing, notInPath, variable] {
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        }
    }
}
