import ArgumentParser
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
            """,
        subcommands: [Generate.self, List.self, Install.self, Use.self, Remove.self])

    struct KeyringFile: ParsableArguments {
        @Option(name: .long, help: "The keyring file (mode 0600; created by `install` when missing).")
        var file: String

        func load(creating: Bool = false) throws -> Keyring {
            if creating && !TrustFiles.exists(file) { return Keyring() }
            return try userFacing { try TrustFiles.read(file, expecting: .keyring) }.keyring!
        }

        func save(_ keyring: Keyring) throws {
            try userFacing { try TrustFiles.write(.keyring(keyring), to: file, replace: true) }
        }
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
            var ring = try keyring.load(creating: true)
            let parsed = try KeyringCommand.parseKey(key)
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
            var ring = try keyring.load()
            let parsed = try KeyringCommand.parseKey(key)
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
            var ring = try keyring.load()
            let parsed = try KeyringCommand.parseKey(key)
            try userFacing { try ring.remove(parsed) }
            try keyring.save(ring)
            print("removed \(parsed.fingerprint)")
        }
    }
}
