import Foundation
import Testing

/// The foundation commands, run as real processes. Their names and flags are a contract.
@Suite struct TrustCommandTests {
    @Test func identityAuthorityAdmitVerifyRevoke() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        let generated = try cli.run("keys", "generate", "--out", cli.path("node/identity.key"))
        #expect(generated.status == 0)
        let nodeID = generated.stdout
        #expect(nodeID.count == 64 && nodeID.allSatisfy(\.isHexDigit))
        #expect(try cli.run("keys", "show", cli.path("node/identity.key")).stdout == nodeID)

        #expect(try cli.run("authority", "init", "--dir", cli.path("auth")).status == 0)
        let again = try cli.run("authority", "init", "--dir", cli.path("auth"))
        #expect(again.status != 0 && again.stderr.contains("already exists"))

        let admitted = try cli.run(
            "authority", "admit", "--dir", cli.path("auth"), nodeID, "--name", "edge-1",
            "--roles", "peer,coordinator", "--valid-for", "30d", "--out", cli.path("node/certificate"))
        #expect(admitted.status == 0, "\(admitted.stderr)")

        let verified = try cli.run(
            "certificate", "verify", cli.path("node/certificate"), "--authority", cli.path("auth/authority.pub"))
        #expect(verified.status == 0)
        #expect(verified.stdout.hasPrefix("valid: edge-1 \(nodeID) roles peer,coordinator"))

        let missingRole = try cli.run(
            "certificate", "verify", cli.path("node/certificate"), "--authority", cli.path("auth/authority.pub"),
            "--require", "submit")
        #expect(missingRole.status != 0 && missingRole.stderr.contains("lacks the role(s) submit"))

        #expect(try cli.run("authority", "revoke", "--dir", cli.path("auth"), nodeID, "--out", cli.path("rev")).status == 0)
        let revoked = try cli.run(
            "certificate", "verify", cli.path("node/certificate"), "--authority", cli.path("auth/authority.pub"),
            "--revocation", cli.path("rev"))
        #expect(revoked.status != 0)
        #expect(revoked.stderr.contains("\(cli.path("node/certificate")): invalid certificate: revoked at"))
    }

    @Test func verifyNamesWhatIsWrong() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        let nodeID = try cli.run("keys", "generate", "--out", cli.path("identity.key")).stdout
        try cli.run("authority", "init", "--dir", cli.path("auth"))
        try cli.run("authority", "init", "--dir", cli.path("other"))
        try cli.run("authority", "admit", "--dir", cli.path("auth"), nodeID, "--name", "n", "--roles", "peer",
                    "--out", cli.path("cert"))

        let other = try cli.run("certificate", "verify", cli.path("cert"), "--authority", cli.path("other/authority.pub"))
        #expect(other.status != 0 && other.stderr.contains("not by the expected authority"))

        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: cli.path("cert"))))
        bytes[bytes.count - 10] ^= 0x40
        try Data(bytes).write(to: URL(fileURLWithPath: cli.path("tampered")))
        let tampered = try cli.run("certificate", "verify", cli.path("tampered"), "--authority", cli.path("auth/authority.pub"))
        #expect(tampered.status != 0 && tampered.stderr.contains("bad signature"))

        let truncated = cli.path("truncated")
        try Data(bytes.prefix(40)).write(to: URL(fileURLWithPath: truncated))
        let short = try cli.run("certificate", "verify", truncated, "--authority", cli.path("auth/authority.pub"))
        #expect(short.status != 0 && short.stderr.contains("malformed: truncated"))

        let wrongKind = try cli.run("certificate", "verify", cli.path("identity.key"), "--authority", cli.path("auth/authority.pub"))
        #expect(wrongKind.stderr.contains("this is a node identity (secret key), not a certificate"))

        let missing = try cli.run("certificate", "verify", cli.path("absent"), "--authority", cli.path("auth/authority.pub"))
        #expect(missing.stderr.contains("\(cli.path("absent")): no such file"))
        // User errors never print a stack trace.
        for result in [other, tampered, short, wrongKind, missing] {
            #expect(!result.stderr.contains("Fatal error") && result.stderr.split(separator: "\n").count == 1)
        }
    }

    @Test func refusesBadInputWithClearErrors() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        let nodeID = try cli.run("keys", "generate", "--out", cli.path("identity.key")).stdout
        try cli.run("authority", "init", "--dir", cli.path("auth"))

        let overwrite = try cli.run("keys", "generate", "--out", cli.path("identity.key"))
        #expect(overwrite.status != 0 && overwrite.stderr.contains("refusing to overwrite"))

        chmod(cli.path("identity.key"), 0o644)
        let readable = try cli.run("keys", "show", cli.path("identity.key"))
        #expect(readable.status != 0 && readable.stderr.contains("chmod 600"))

        let badRole = try cli.run("authority", "admit", "--dir", cli.path("auth"), nodeID, "--name", "n",
                                  "--roles", "peer,boss", "--out", cli.path("c"))
        #expect(badRole.stderr.contains("unknown role 'boss'"))
        let badID = try cli.run("authority", "admit", "--dir", cli.path("auth"), "xyz", "--name", "n",
                                "--roles", "peer", "--out", cli.path("c"))
        #expect(badID.stderr.contains("'xyz' is not a NodeID"))
        let badName = try cli.run("authority", "admit", "--dir", cli.path("auth"), nodeID, "--name", "a b",
                                  "--roles", "peer", "--out", cli.path("c"))
        #expect(badName.stderr.contains("invalid node name 'a b'"))
        let badDuration = try cli.run("authority", "admit", "--dir", cli.path("auth"), nodeID, "--name", "n",
                                      "--roles", "peer", "--valid-for", "forever", "--out", cli.path("c"))
        #expect(badDuration.stderr.contains("'forever' is not a duration"))
        let noAuthority = try cli.run("authority", "admit", "--dir", cli.path("none"), nodeID, "--name", "n",
                                      "--roles", "peer", "--out", cli.path("c"))
        #expect(noAuthority.stderr.contains("\(cli.path("none"))/authority.key: no such file"))
        #expect(!FileManager.default.fileExists(atPath: cli.path("c")))
    }

    @Test func keyringRotation() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        let first = try cli.run("keyring", "generate").stdout
        let second = try cli.run("keyring", "generate").stdout
        #expect(first != second && first.count == 44)
        let file = cli.path("keyring")
        #expect(try cli.run("keyring", "install", first, "--file", file).stdout.hasSuffix("(primary)"))
        #expect(try cli.run("keyring", "install", second, "--file", file).status == 0)
        let removePrimary = try cli.run("keyring", "remove", first, "--file", file)
        #expect(removePrimary.status != 0 && removePrimary.stderr.contains("is the primary key"))
        #expect(try cli.run("keyring", "use", second, "--file", file).status == 0)
        #expect(try cli.run("keyring", "remove", first, "--file", file).status == 0)
        let listed = try cli.run("keyring", "list", "--file", file).stdout
        #expect(listed.split(separator: "\n").count == 1 && listed.hasSuffix("primary"))
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try cli.run("keyring", "install", "not-a-key", "--file", file).stderr.contains("is not a gossip key"))
    }

    @Test(arguments: [
        [], ["keys"], ["keys", "generate"], ["keys", "show"], ["authority"], ["authority", "init"],
        ["authority", "admit"], ["authority", "revoke"], ["certificate"], ["certificate", "verify"],
        ["keyring"], ["keyring", "generate"], ["keyring", "list"], ["keyring", "install"], ["keyring", "use"],
        ["keyring", "remove"],
    ])
    func everyCommandHasHelp(_ command: [String]) throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        let result = try cli.run(command + ["--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("USAGE:"))
    }
}
