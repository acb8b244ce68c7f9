import ArgumentParser
import StarlingCrypto
import StarlingStore
import StarlingTrust

struct AuthorityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "authority",
        abstract: "The cluster authority: the offline key that admits and revokes nodes.",
        subcommands: [Init.self, Admit.self, Revoke.self])

    static func keyPath(_ directory: String) -> String { "\(directory)/authority.key" }
    static func publicPath(_ directory: String) -> String { "\(directory)/authority.pub" }

    static func load(_ directory: String) throws -> Authority {
        let document = try userFacing { try TrustFiles.read(keyPath(directory), expecting: .authoritySecret) }
        return Authority(signingKey: document.signingKey!)
    }

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create DIR/authority.key (0600) and DIR/authority.pub.",
            discussion: "Keep authority.key offline; peers need only authority.pub.")

        @Option(name: .long, help: "Directory for the authority's files (created if missing).")
        var dir: String

        func run() throws {
            let keyPath = AuthorityCommand.keyPath(dir), publicPath = AuthorityCommand.publicPath(dir)
            for path in [keyPath, publicPath] where TrustFiles.exists(path) {
                throw CLIError("\(path): already exists; an authority is created once (use another --dir)")
            }
            let key = SigningKey.generate()
            try userFacing {
                try TrustFiles.write(.authoritySecret(key), to: keyPath)
                try TrustFiles.write(.authorityPublic(key.publicKey), to: publicPath)
            }
            print("authority \(Hex.encode(key.publicKey.bytes))")
            print("wrote \(keyPath) (secret, keep offline) and \(publicPath) (give to every peer)")
        }
    }

    struct Admit: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Sign a certificate admitting a node to the cluster.")

        @Option(name: .long, help: "The authority's directory (from `starling authority init`).")
        var dir: String

        @Argument(help: "The node's NodeID (printed by `starling keys generate` or `keys show`).")
        var nodeID: String

        @Option(name: .long, help: "The node's name: letters, digits, '.', '-', '_' (at most 64).")
        var name: String

        @Option(name: .long, help: "Comma-separated roles: peer, coordinator, submit, admin.")
        var roles: String

        @Option(name: .customLong("valid-for"), help: "Validity from now: a number and s, m, h, d or w.")
        var validFor: String = "365d"

        @Option(name: .long, help: "Where to write the certificate; never overwritten.")
        var out: String

        func run() throws {
            let authority = try AuthorityCommand.load(dir)
            let certificate = try userFacing {
                let node = try NodeID(text: nodeID)
                let roles = try Roles(text: self.roles)
                let seconds = try Timestamp.parseDuration(validFor)
                return try authority.admit(node, name: name, roles: roles, now: currentUnixTime(), validFor: seconds)
            }
            try userFacing { try TrustFiles.write(.certificate(certificate), to: out) }
            print("admitted \(certificate.summary)")
            print("wrote \(out)")
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign a revocation of a node key; give the file to any peer and it spreads.")

        @Option(name: .long, help: "The authority's directory.")
        var dir: String

        @Argument(help: "The NodeID to revoke.")
        var nodeID: String

        @Option(name: .long, help: "Why, in a few words (kept in the record).")
        var reason: String = ""

        @Option(name: .long, help: "Where to write the revocation; never overwritten.")
        var out: String

        func run() throws {
            let authority = try AuthorityCommand.load(dir)
            let revocation = try userFacing {
                try authority.revoke(try NodeID(text: nodeID), now: currentUnixTime(), reason: reason)
            }
            try userFacing { try TrustFiles.write(.revocation(revocation), to: out) }
            print("revoked \(revocation.node) at \(Timestamp.format(revocation.revokedAt))")
            print("wrote \(out)")
        }
    }
}

extension Certificate {
    /// One line: who, what, when, by whom.
    var summary: String {
        "\(name) \(node) roles \(roles) valid \(Timestamp.format(notBefore)) to \(Timestamp.format(notAfter))"
            + " authority \(String(Hex.encode(authority.bytes).prefix(16)))"
    }
}
