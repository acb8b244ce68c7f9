import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Tasks on five real peer processes on loopback, driven only through `starling task ...`: submit,
/// the same coordinator everywhere, rounds committed once each, cancel, and a `kill -9` of the
/// coordinator that loses no committed round. In the serialized loopback suite (several clusters at
/// once on a shared machine would only make each other slow).
extension LoopbackClusterTests {
    /// What the tests read of `starling task list --json` (the local API's `Task`).
    struct TaskJSON: Decodable, Equatable {
        struct Round: Decodable, Equatable {
            var round: UInt64
            var epoch: UInt64
            var coordinator: String
            var modelHash: String
        }

        var id: String
        var name: String
        var phase: String
        var coordinator: String?
        var coordinatorName: String?
        var epoch: UInt64?
        var leaseValid: Bool
        var round: UInt64
        var rounds: UInt64
        var committed: [Round]
        var cancelReason: String?
    }

    struct TasksJSON: Decodable { var tasks: [TaskJSON] }

    /// The task `id` as `node` sees it (nil: not held, or no answer).
    static func task(_ cli: CLIRunner, _ node: Node, _ id: String) throws -> TaskJSON? {
        let result = try cli.run("task", "list", "--peer", node.directory, "--json")
        guard result.status == 0, let list = try? JSONDecoder().decode(TasksJSON.self, from: Data(result.stdout.utf8)) else {
            return nil
        }
        return list.tasks.first { $0.id == id }
    }

    static func views(_ cli: CLIRunner, _ nodes: [Node], _ id: String) throws -> [TaskJSON?] {
        try nodes.map { try task(cli, $0, id) }
    }

    /// For failure messages: what each node shows.
    static func describe(_ cli: CLIRunner, _ nodes: [Node], _ id: String) -> String {
        nodes.map { node in
            guard let view = try? task(cli, node, id) else { return "\(node.name): -" }
            return "\(node.name): \(view.phase) coordinator \(view.coordinatorName ?? "-") epoch \(view.epoch.map(String.init) ?? "-") "
                + "rounds \(view.committed.map { "\($0.round)@\($0.epoch)" })"
        }.joined(separator: "; ")
    }

    /// Rounds 1...n, each once, in order.
    static func isWholeLine(_ task: TaskJSON?, rounds: UInt64) -> Bool {
        task?.committed.map(\.round) == Array(1...rounds)
    }

    /// examples/federatedtask.yaml made small: `rounds` rounds of at most 10 s, edge-c on node5.
    static func spec(_ cli: CLIRunner, name: String, rounds: Int) throws -> String {
        var text = try String(contentsOfFile: TaskCommandTests.example("federatedtask.yaml"), encoding: .utf8)
        for (from, to) in [("name: digits-logreg\n  labels", "name: \(name)\n  labels"), ("rounds: 20", "rounds: \(rounds)"),
                           ("roundTimeout: 2m", "roundTimeout: 10s"), ("nodeName: edge-c-node", "nodeName: node5")] {
            #expect(text.contains(from), "examples/federatedtask.yaml changed: \(from)")
            text = text.replacingOccurrences(of: from, with: to)
        }
        let path = cli.path("\(name).yaml")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// `starling task submit`: the full id it printed.
    static func submit(_ cli: CLIRunner, _ path: String, through node: Node, name: String) throws -> String {
        let result = try cli.run("task", "submit", path, "--peer", node.directory)
        #expect(result.status == 0, "\(result.stderr)")
        let words = result.stdout.split(separator: " ").map(String.init)
        try #require(words.count == 3 && words[0] == "submitted" && words[1] == name && words[2].count == 64,
                     "submit printed: \(result.stdout) \(result.stderr)")
        return words[2]
    }

    /// Starts `starling task watch` in the background, its output in a file.
    static func startWatch(_ cli: CLIRunner, _ reference: String, through node: Node, output: String) throws -> Process {
        let process = Process()
        process.executableURL = CLIRunner.executable
        process.arguments = ["task", "watch", reference, "--peer", node.directory, "--interval", "200ms"]
        process.currentDirectoryURL = URL(fileURLWithPath: cli.directory)
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    @Test func tasksRunCompleteCancelAndSurviveTheirCoordinator() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        // node4 submits (and, tagged tier=edge, never coordinates: examples/federatedtask.yaml wants
        // tier=cloud coordinators); every node may coordinate by certificate.
        var nodeIDs: [String: String] = [:]
        var nodes = try (1...5).map { index in
            let name = "node\(index)"
            let (directory, id) = try PeerCommandTests.admittedNode(
                cli, name: name, roles: index == 4 ? "peer,coordinator,submit" : "peer,coordinator")
            nodeIDs[id] = name
            return Node(name: name, directory: directory, port: PeerCommandTests.freePort())
        }
        defer { Self.stopAll(nodes) }
        for index in nodes.indices {
            nodes[index].process = try PeerCommandTests.startPeer(
                cli, ["--data-dir", nodes[index].directory, "--listen", nodes[index].address, "--bootstrap", nodes[0].address,
                      "--tags", "site=factory-1,tier=\(index == 3 ? "edge" : "cloud")", "--log-level", "info"],
                log: "\(nodes[index].directory)/peer.log")
        }
        let submitter = nodes[3]
        let names = Set(nodes.map(\.name))
        let joined = try PeerCommandTests.wait(seconds: 10) {
            try nodes.allSatisfy { node in
                let states = try Self.states(cli, node)
                return Set(states.keys) == names && states.values.allSatisfy { $0 == "alive" }
            }
        }
        try #require(joined, "five peers joined within 10 s")
        // Every node holds a small `digits` dataset (the spec places workers by it).
        let rows = (0..<40).map { row in ((0..<64).map { String(($0 * 7 + row * 3) % 17) } + [String(row % 10)]).joined(separator: ",") }
        let csv = cli.path("digits.csv")
        try (rows.joined(separator: "\n") + "\n").write(toFile: csv, atomically: true, encoding: .utf8)
        for node in nodes {
            let added = try cli.run("dataset", "add", "digits", "--path", csv, "--peer", node.directory)
            try #require(added.status == 0, "dataset add on \(node.name): \(added.stderr)")
        }

        // 1. Three rounds: the same coordinator and epoch everywhere, then completed, rounds 1, 2, 3.
        let threeRounds = try Self.spec(cli, name: "three-rounds", rounds: 3)
        let refused = try cli.run("task", "submit", threeRounds, "--peer", nodes[0].directory)
        #expect(refused.status == 1 && refused.stderr.contains("certificate does not carry the submit role"), "\(refused.stderr)")
        let first = try Self.submit(cli, threeRounds, through: submitter, name: "three-rounds")
        let watch = try Self.startWatch(cli, "three-rounds", through: submitter, output: cli.path("watch-1.txt"))
        defer { if watch.isRunning { kill(watch.processIdentifier, SIGKILL) } }
        let agreed = try PeerCommandTests.wait(seconds: 10) {
            let views = try Self.views(cli, nodes, first)
            guard let one = views[0], one.coordinator != nil else { return false }
            return views.allSatisfy { $0?.coordinator == one.coordinator && $0?.epoch == one.epoch }
        }
        #expect(agreed, "one coordinator and epoch everywhere within 10 s: \(Self.describe(cli, nodes, first))")
        let coordinator = try Self.task(cli, submitter, first)?.coordinator
        #expect(coordinator.map { nodeIDs[$0] != "node4" } == true, "node4 (tier=edge) never coordinates")

        let completed = try PeerCommandTests.wait(seconds: 30) {
            try Self.views(cli, nodes, first).allSatisfy { $0?.phase == "completed" && Self.isWholeLine($0, rounds: 3) }
        }
        #expect(completed, "completed everywhere within 30 s: \(Self.describe(cli, nodes, first))")
        let status = try cli.run("task", "status", String(first.prefix(12)), "--peer", submitter.directory, "--json")
        let final = try? JSONDecoder().decode(TaskJSON.self, from: Data(status.stdout.utf8))
        #expect(final?.committed.map(\.round) == [1, 2, 3], "each round once: \(status.stdout) \(status.stderr)")
        let text = try cli.run("task", "status", "three-rounds", "--peer", nodes[0].directory)
        #expect(text.status == 0 && text.stdout.contains("phase        completed") && text.stdout.contains("round        3 of 3 committed"),
                "\(text.stdout) \(text.stderr)")
        let table = try cli.run("task", "list", "--peer", nodes[1].directory)
        let row = table.stdout.split(separator: "\n").last.map(String.init) ?? ""
        #expect(table.stdout.hasPrefix("NAME") && row.hasPrefix("three-rounds  \(first.prefix(8))  FederatedTask  completed")
                && row.hasSuffix("3/3"), "\(table.stdout)")
        #expect(PeerCommandTests.wait(seconds: 5) { !watch.isRunning })
        let watched = (try? String(contentsOfFile: cli.path("watch-1.txt"), encoding: .utf8)) ?? ""
        #expect(!watch.isRunning && watch.terminationStatus == 0 && watched.contains("three-rounds: ")
                && watched.contains("three-rounds: round 3/3 committed at epoch")
                && watched.contains("three-rounds: phase running -> completed"), "watch: \(watched)")

        // 2. Cancel running tasks: two of one name (a name is ambiguous then; an id prefix is not),
        //    cancelled on every peer, with the reason.
        let second = try Self.submit(cli, try Self.spec(cli, name: "to-cancel", rounds: 1000), through: submitter, name: "to-cancel")
        let twin = try Self.submit(cli, try Self.spec(cli, name: "to-cancel", rounds: 999), through: submitter, name: "to-cancel")
        #expect(try PeerCommandTests.wait(seconds: 10) { try Self.task(cli, submitter, second)?.coordinator != nil })
        let ambiguous = try cli.run("task", "cancel", "to-cancel", "--peer", submitter.directory)
        #expect(ambiguous.status == 1 && ambiguous.stderr.contains("'to-cancel' is ambiguous: it names 2 tasks")
                && ambiguous.stderr.contains(second) && ambiguous.stderr.contains(twin), "\(ambiguous.stderr)")
        for id in [second, twin] {
            let cancel = try cli.run("task", "cancel", String(id.prefix(10)), "--peer", submitter.directory, "--reason", "enough for today")
            #expect(cancel.status == 0 && cancel.stdout == "cancelled to-cancel \(id)", "\(cancel.stdout) \(cancel.stderr)")
        }
        let cancelled = try PeerCommandTests.wait(seconds: 10) {
            try [second, twin].allSatisfy { id in
                try Self.views(cli, nodes, id).allSatisfy { $0?.phase == "cancelled" && $0?.cancelReason == "enough for today" }
            }
        }
        #expect(cancelled, "cancelled everywhere within 10 s: \(Self.describe(cli, nodes, second)) / \(Self.describe(cli, nodes, twin))")
        let again = try cli.run("task", "cancel", second, "--peer", nodes[0].directory)
        #expect(again.status == 0 && again.stdout.contains("was already cancelled: enough for today"), "\(again.stdout) \(again.stderr)")
        let finishedOne = try cli.run("task", "cancel", first, "--peer", submitter.directory)
        #expect(finishedOne.status == 1 && finishedOne.stderr.contains("already completed"), "\(finishedOne.stderr)")

        // 3. kill -9 the coordinator after a commit: a higher epoch takes over elsewhere, keeps every
        //    committed round, and completes.
        let rounds: UInt64 = 8  // enough that the kill lands mid-task: rounds take a fraction of a second here
        let third = try Self.submit(cli, try Self.spec(cli, name: "failover", rounds: Int(rounds)), through: submitter, name: "failover")
        var before: TaskJSON?
        let committedOnce = try PeerCommandTests.wait(seconds: 15) {
            before = try Self.task(cli, submitter, third)
            return before?.coordinator != nil && before?.committed.isEmpty == false
        }
        let seen = try #require(before, "the task is held")
        try #require(committedOnce && seen.round < rounds, "a commit, and rounds left, within 15 s: \(seen)")
        let victimName = try #require(seen.coordinator.flatMap { nodeIDs[$0] })
        let victim = try #require(nodes.firstIndex { $0.name == victimName })
        let victimWatch = try Self.startWatch(cli, "failover", through: nodes[victim], output: cli.path("watch-victim.txt"))
        defer { if victimWatch.isRunning { kill(victimWatch.processIdentifier, SIGKILL) } }
        // Once the watch has printed its first line, the peer it watches goes away.
        #expect(PeerCommandTests.wait(seconds: 10) {
            ((try? String(contentsOfFile: cli.path("watch-victim.txt"), encoding: .utf8)) ?? "").contains("\n")
        })
        kill(nodes[victim].process!.processIdentifier, SIGKILL)
        nodes[victim].process!.waitUntilExit()
        let survivors = nodes.indices.filter { $0 != victim }.map { nodes[$0] }

        let tookOver = try PeerCommandTests.wait(seconds: 30) {
            try Self.views(cli, survivors, third).allSatisfy { view in
                guard let view, let epoch = view.epoch, let old = seen.epoch else { return false }
                return view.coordinator != seen.coordinator && epoch > old
            }
        }
        #expect(tookOver, "a new coordinator at a higher epoch within 30 s: \(Self.describe(cli, survivors, third))")
        let finished = try PeerCommandTests.wait(seconds: 30) {
            try Self.views(cli, survivors, third).allSatisfy { $0?.phase == "completed" && Self.isWholeLine($0, rounds: rounds) }
        }
        let after = try Self.views(cli, survivors, third)
        #expect(finished, "completed on every survivor: \(after)")
        for view in after {
            // Nothing committed is lost: the rounds seen before the kill are still the same commits.
            #expect(Array(view?.committed.prefix(seen.committed.count) ?? []) == seen.committed, "\(String(describing: view))")
        }
        #expect(PeerCommandTests.wait(seconds: 10) { !victimWatch.isRunning })
        let victimOutput = (try? String(contentsOfFile: cli.path("watch-victim.txt"), encoding: .utf8)) ?? ""
        #expect(!victimWatch.isRunning && victimWatch.terminationStatus == 1
                && victimOutput.contains("watch failover stopped: no peer is running with data directory \(nodes[victim].directory)"),
                "watch of the killed peer: \(victimOutput)")
    }
}
