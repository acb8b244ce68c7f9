import Foundation
import StarlingCrypto
import StarlingStore
import StarlingTrust
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Real peer processes on loopback: join, failure detection, restart, and who is never let in.
@Suite(.serialized) struct LoopbackClusterTests {
    struct Node {
        let name: String
        let directory: String
        let port: UInt16
        var process: Process?
        var address: String { "127.0.0.1:\(port)" }
    }

    /// `starling members --json` of one node: name → state.
    static func states(_ cli: CLIRunner, _ node: Node) throws -> [String: String] {
        let result = try cli.run("members", "--peer", node.directory, "--json")
        guard result.status == 0,
              let object = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
              let members = object["members"] as? [[String: Any]] else { return [:] }
        var states: [String: String] = [:]
        for member in members {
            if let name = member["name"] as? String, let state = member["state"] as? String { states[name] = state }
        }
        return states
    }

    static func start(_ cli: CLIRunner, _ node: inout Node, bootstrap: String) throws {
        node.process = try PeerCommandTests.startPeer(
            cli, ["--data-dir", node.directory, "--listen", node.address, "--bootstrap", bootstrap, "--log-level", "notice"],
            log: "\(node.directory)/peer.log")
    }

    static func stopAll(_ nodes: [Node]) {
        for node in nodes {
            guard let process = node.process, process.isRunning else { continue }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// Five admitted nodes on free ports.
    static func makeNodes(_ cli: CLIRunner, count: Int = 5) throws -> [Node] {
        try (1...count).map { index in
            let name = "node\(index)"
            let (directory, _) = try PeerCommandTests.admittedNode(cli, name: name)
            return Node(name: name, directory: directory, port: PeerCommandTests.freePort())
        }
    }

    @Test func fivePeersJoinDetectACrashAndWelcomeTheRestart() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        var nodes = try Self.makeNodes(cli)
        defer { Self.stopAll(nodes) }
        let bootstrap = nodes[0].address
        for index in nodes.indices { try Self.start(cli, &nodes[index], bootstrap: bootstrap) }

        let names = Set(nodes.map(\.name))
        let joined = try PeerCommandTests.wait(seconds: 10) {
            try nodes.allSatisfy { node in
                let states = try Self.states(cli, node)
                return Set(states.keys) == names && states.values.allSatisfy { $0 == "alive" }
            }
        }
        let afterJoin = try nodes.map { try Self.states(cli, $0) }
        #expect(joined, "all five alive on each within 10 s: \(afterJoin)")

        // kill -9 one: every other peer marks it dead within 30 s.
        let victim = 3
        kill(nodes[victim].process!.processIdentifier, SIGKILL)
        nodes[victim].process!.waitUntilExit()
        let survivors = nodes.indices.filter { $0 != victim }
        let detected = try PeerCommandTests.wait(seconds: 30) {
            try survivors.allSatisfy { try Self.states(cli, nodes[$0])[nodes[victim].name] == "dead" }
        }
        let afterCrash = try survivors.map { try Self.states(cli, nodes[$0]) }
        #expect(detected, "dead everywhere within 30 s: \(afterCrash)")

        // Restarted from its data directory, it is alive again everywhere.
        try Self.start(cli, &nodes[victim], bootstrap: bootstrap)
        let back = try PeerCommandTests.wait(seconds: 15) {
            try nodes.allSatisfy { node in
                let states = try Self.states(cli, node)
                return states.count == 5 && states.values.allSatisfy { $0 == "alive" }
            }
        }
        let afterRestart = try nodes.map { try Self.states(cli, $0) }
        #expect(back, "alive again after restart: \(afterRestart)")
    }

    @Test func strangersExpiredAndRevokedNodesNeverBecomeMembers() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        var nodes = try Self.makeNodes(cli, count: 3)
        defer { Self.stopAll(nodes) }

        // A node admitted by another authority (its own authority.pub matches, so it starts).
        let strangerDirectory = cli.path("stranger")
        let strangerID = try cli.run("keys", "generate", "--out", "\(strangerDirectory)/identity.key").stdout
        try cli.run("authority", "init", "--dir", cli.path("other-auth"))
        try cli.run("authority", "admit", "--dir", cli.path("other-auth"), strangerID, "--name", "stranger",
                    "--roles", "peer", "--out", "\(strangerDirectory)/certificate")
        try FileManager.default.copyItem(atPath: cli.path("other-auth/authority.pub"), toPath: "\(strangerDirectory)/authority.pub")
        var stranger = Node(name: "stranger", directory: strangerDirectory, port: PeerCommandTests.freePort())

        // A node whose certificate the cluster's authority revoked (the revocation is given to the others).
        let (revokedDirectory, revokedID) = try PeerCommandTests.admittedNode(cli, name: "revoked")
        try cli.run("authority", "revoke", "--dir", cli.path("auth"), revokedID, "--out", cli.path("revoked.rev"))
        for node in nodes {
            try FileManager.default.createDirectory(atPath: "\(node.directory)/revocations", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: cli.path("revoked.rev"), toPath: "\(node.directory)/revocations/revoked.rev")
        }
        var revoked = Node(name: "revoked", directory: revokedDirectory, port: PeerCommandTests.freePort())

        // A node with an expired certificate (signed as if issued two years ago): it refuses to start.
        let (expiredDirectory, expiredID) = try PeerCommandTests.admittedNode(cli, name: "expired")
        let authorityKey = try TrustFiles.read(cli.path("auth/authority.key"), expecting: .authoritySecret).signingKey!
        let old = try Authority(signingKey: authorityKey).admit(
            NodeID(text: expiredID), name: "expired", roles: [.peer],
            now: UInt64(Date().timeIntervalSince1970) - 2 * 365 * 86_400, validFor: 365 * 86_400)
        try TrustFiles.write(.certificate(old), to: "\(expiredDirectory)/certificate", replace: true)
        let expiredRun = try cli.run("peer", "--data-dir", expiredDirectory, "--listen", "127.0.0.1:\(PeerCommandTests.freePort())",
                                     "--bootstrap", nodes[0].address)
        #expect(expiredRun.status != 0 && expiredRun.stderr.contains("expired"), "\(expiredRun.stderr)")

        let bootstrap = nodes[0].address
        for index in nodes.indices { try Self.start(cli, &nodes[index], bootstrap: bootstrap) }
        try Self.start(cli, &stranger, bootstrap: bootstrap)
        try Self.start(cli, &revoked, bootstrap: bootstrap)
        defer { Self.stopAll([stranger, revoked]) }

        let members = Set(nodes.map(\.name))
        let settled = try PeerCommandTests.wait(seconds: 10) {
            try nodes.allSatisfy { Set(try Self.states(cli, $0).keys) == members }
        }
        #expect(settled)
        // Give the outsiders several gossip and sync rounds to try.
        usleep(4_000_000)
        for node in nodes {
            let states = try Self.states(cli, node)
            #expect(Set(states.keys) == members, "\(node.name) sees \(states)")
        }
    }

    @Test func keyringRotationReachesEveryPeerAndGossipStaysUp() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        var nodes = try Self.makeNodes(cli, count: 3)
        defer { Self.stopAll(nodes) }
        // node1 is re-admitted with the admin role; the others are plain peers.
        let adminID = try cli.run("keys", "show", "\(nodes[0].directory)/identity.key").stdout
        try FileManager.default.removeItem(atPath: "\(nodes[0].directory)/certificate")
        try cli.run("authority", "admit", "--dir", cli.path("auth"), adminID, "--name", nodes[0].name,
                    "--roles", "peer,admin", "--out", "\(nodes[0].directory)/certificate")
        for index in nodes.indices { try Self.start(cli, &nodes[index], bootstrap: nodes[0].address) }
        let names = Set(nodes.map(\.name))
        // Every peer holds every other alive (an operation goes to the members held alive).
        #expect(try PeerCommandTests.wait(seconds: 10) {
            try nodes.allSatisfy { node in
                let states = try Self.states(cli, node)
                return Set(states.keys) == names && states.values.allSatisfy { $0 == "alive" }
            }
        })

        let notAdmin = try cli.run("keyring", "list", "--peer", nodes[1].directory)
        #expect(notAdmin.status != 0 && notAdmin.stderr.contains("lacks the admin role"), "\(notAdmin.stderr)")

        let first = try cli.run("keyring", "generate").stdout
        let second = try cli.run("keyring", "generate").stdout
        for (operation, key) in [("install", first), ("install", second), ("use", second), ("remove", first)] {
            let result = try cli.run("keyring", operation, key, "--peer", nodes[0].directory)
            #expect(result.status == 0 && result.stdout.contains("3 of 3 member(s) answered, 3 ok"), "\(operation): \(result.stdout) \(result.stderr)")
        }
        let listed = try cli.run("keyring", "list", "--peer", nodes[0].directory)
        #expect(listed.stdout.contains("installed on 3 of 3, primary on 3"), "\(listed.stdout)")
        #expect(listed.stdout.components(separatedBy: "key ").count == 2, "only the new key is left: \(listed.stdout)")
        for node in nodes {
            let attributes = try FileManager.default.attributesOfItem(atPath: "\(node.directory)/keyring")
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
        }
        // Encrypted gossip keeps everyone alive (probes over several periods).
        usleep(3_000_000)
        for node in nodes {
            let states = try Self.states(cli, node)
            #expect(states.count == 3 && states.values.allSatisfy { $0 == "alive" }, "\(node.name): \(states)")
        }
    }
}
