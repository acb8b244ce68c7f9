import ArgumentParser
import StarlingCrypto
import StarlingStore
import StarlingTrust

struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Create and inspect node identities (Ed25519 key pairs).",
        subcommands: [Generate.self, Show.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a new node identity to FILE (mode 0600) and print its NodeID.")

        @Option(name: .long, help: "Where to write the identity; never overwritten.")
        var out: String

        func run() throws {
            let key = SigningKey.generate()
            try userFacing { try TrustFiles.write(.identity(key), to: out) }
            print(NodeID(key.publicKey))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the NodeID of an identity file.")

        @Argument(help: "An identity file made by `starling keys generate`.")
        var file: String

        func run() throws {
            let document = try userFacing { try TrustFiles.read(file, expecting: .identity) }
            print(NodeID(document.signingKey!.publicKey))
        }
    }
}
