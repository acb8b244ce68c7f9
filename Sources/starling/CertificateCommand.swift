import ArgumentParser
import StarlingStore
import StarlingTrust

struct CertificateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certificate",
        abstract: "Check and inspect node certificates.",
        subcommands: [Verify.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a certificate: exit 0 and a one-line summary, or non-zero and the reason.",
            discussion: """
                Checks the issuer, the signature, the validity window (with \(TrustLimits.clockSkewSeconds) s \
                of clock-skew tolerance) and, when revocation files are given, whether the node was revoked.
                """)

        @Argument(help: "The certificate file.")
        var file: String

        @Option(name: .long, help: "The authority's public key file (authority.pub).")
        var authority: String

        @Option(name: .long, help: "A revocation file to check against (repeatable).")
        var revocation: [String] = []

        @Option(name: .long, help: "Roles the certificate must carry, comma-separated.")
        var require: String?

        func run() throws {
            let authorityKey = try userFacing { try TrustFiles.read(authority, expecting: .authorityPublic) }.publicKey!
            var revocations = RevocationList()
            for path in revocation {
                let record = try userFacing { try TrustFiles.read(path, expecting: .revocation) }.revocation!
                do {
                    try revocations.insert(record, authority: authorityKey)
                } catch {
                    throw CLIError("\(path): invalid revocation: \(error)")
                }
            }
            let required = try userFacing { try require.map { try Roles(text: $0) } ?? [] }
            let certificate = try userFacing { try TrustFiles.read(file, expecting: .certificate) }.certificate!
            do {
                try certificate.verify(
                    authority: authorityKey, now: currentUnixTime(), revocations: revocations, requiring: required)
            } catch {
                throw CLIError("\(file): invalid certificate: \(error)")
            }
            print("valid: \(certificate.summary)")
        }
    }
}
