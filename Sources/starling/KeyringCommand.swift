import ArgumentParser
import Foundation
import StarlingLocalAPI
import StarlingRuntime
import StarlingCrypto
import StarlingStore
import StarlingTrust

struct KeyringCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keyring",
        abstract: "Gossip encryption keys (XChaCha20-Poly1305): generate, install, use, remove, list.",
        discussion: """
            Rotation without downtime: install the new key everywhere, then use it everywhere, then \
            remove the old one. Encryption gives confidentiality only; membership is decided by \
            certificates. Keys are printed and typed as base64 of 32 bytes.

            With --file FILE the commands edit a keyring file (a peer reads DIR/keyring at start). \
            With --peer DIR they act on the running cluster through that peer, which must hold the \
            admin role: it applies the change and sends it to every live member, then reports how \
            many applied it.
            """,
        subcommands: [Generate.self, List.self, Install.self, Use.self, Remove.self])

    struct KeyringFile: ParsableArguments {
        @Option(name: .long, help: "A keyring file to edit (mode 0600; created by `install` when missing).")
        var file: String?

        @Option(name: .long, help: "Act on the running cluster through the peer with this data directory.")
        var peer: String?

        func validate() throws {
            guard (file == nil) != (peer == nil) else {
                throw ValidationError("give exactly one of --file FILE (edit a keyring file) or --peer DIR (act on the running cluster)")
            }
        }

        func load(creating: Bool = false) throws -> Keyring {
            let file = self.file!
            if creating && !TrustFiles.exists(file) { return Keyring() }
            return try userFacing { try TrustFiles.read(file, expecting: .keyring) }.keyring!
        }

        func save(_ keyring: Keyring) throws {
            try userFacing { try TrustFiles.write(.keyring(keyring), to: file!, replace: true) }
        }

        /// Starts a cluster operation through the peer and waits (bounded) for every member's answer.
        func cluster(_ operation: LocalRequest.KeyringOperation, key: String?) throws {
            let directory = peer!
            let started = try PeerRequest.answer(.keyring(operation, key: key), to: directory, as: ControlResponse.self)
            guard started.ok, let id = started.fields["operation"].flatMap(UInt64.init) else {
                throw CLIError(started.message)
            }
            print(started.message)
            var status = started
            for _ in 0..<Self.pollsMax {
                status = try PeerRequest.answer(.keyringStatus(id: id), to: directory, as: ControlResponse.self)
                if status.fields["done"] == "true" { break }
                usleep(100_000)
            }
            print(status.message)
            guard status.ok, status.fields["done"] == "true" else {
                throw CLIError("not every member applied the change (see above); run the command again once they are reachable")
            }
        }

        /// 15 s at 100 ms: longer than the peer's own request timeout.
        static let pollsMax = 150
    }

    static func parseKey(_ text: String) throws -> SymmetricKey {
        do {
            return try SymmetricKey(bytes: Base64.decode(text, what: "gossip key"))
        } catch {
            throw CLIError("'\(text)' is not a gossip key: expected base64 of 32 bytes, as printed by `starling keyring generate`")
        }
    }

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a new random gossip key.")
        func run() throws { print(Base64.encode(SymmetricKey.generate().secret.copiedBytes)) }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List installed keys by fingerprint; the primary (used to encrypt) is marked.")
        @OptionGroup var keyring: KeyringFile

        func run() throws {
            if keyring.peer != nil { return try keyring.cluster(.list, key: nil) }
            let ring = try keyring.load()
            if ring.keys.isEmpty { print("no keys installed") }
            for (index, key) in ring.keys.enumerated() {
                print("\(key.fingerprint)\(index == ring.primaryIndex ? "  primary" : "")")
            }
        }
    }

    struct Install: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a key; it decrypts at once, and encrypts once made primary with `use`.")
        @Argument(help: "The key, base64.") var key: String
        @OptionGroup var keyring: KeyringFile

        func run() throws {
            let parsed = try KeyringCommand.parseKey(key)
            if keyring.peer != nil { return try keyring.cluster(.install, key: key) }
            var ring = try keyring.load(creating: true)
            try userFacing { try ring.install(parsed) }
            try keyring.save(ring)
            print("installed \(parsed.fingerprint)\(ring.primary == parsed ? " (primary)" : "")")
        }
    }

    struct Use: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make an installed key the primary.")
        @Argument(help: "The key, base64.") var key: String
        @OptionGroup var keyring: KeyringFile

        func run() throws {
            let parsed = try KeyringCommand.parseKey(key)
            if keyring.peer != nil { return try keyring.cluster(.use, key: key) }
            var ring = try keyring.load()
            try userFacing { try ring.use(parsed) }
            try keyring.save(ring)
            print("primary is now \(parsed.fingerprint)")
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a key that is not the primary.")
        @Argument(help: "The key, base64.") var key: String
        @OptionGroup var keyring: KeyringFile

        func run() throws {
            let parsed = try KeyringCommand.parseKey(key)
            if keyring.peer != nil { return try keyring.cluster(.remove, key: key) }
            var ring = try keyring.load()
            try userFacing { try ring.remove(parsed) }
            try keyring.save(ring)
            print("removed \(parsed.fingerprint)")
        }
    }
}
