import StarlingTestSupport
import StarlingCrypto
import StarlingTrust
import StarlingWire
import Testing

/// Seeded property tests over every decoder that takes bytes from outside: the wire envelope
/// (datagrams and frames) and the trust layer (files, certificates, revocations).
///
/// Properties: a decoder never traps; what it accepts re-encodes to exactly the input (canonical);
/// random valid values round-trip byte-exactly; a mutated signed value that still decodes no longer
/// verifies. The same decoders run under libFuzzer in Tests/Fuzz.
@Suite("Decoder properties")
struct DecoderPropertyTests {
    static let seeds: [UInt64] = [1, 2024, 0xDEC0DE]

    /// A decoder from bytes to the canonical bytes of what it decoded (nil: refused).
    struct Decoder: Sendable, CustomStringConvertible {
        let name: String
        let run: @Sendable ([UInt8]) -> [UInt8]?
        var description: String { name }
    }

    static let decoders: [Decoder] = [
        Decoder(name: "datagram") { bytes in
            (try? Envelope(datagram: bytes)).flatMap { try? $0.datagram() }
        },
        Decoder(name: "frame") { bytes in
            // Only the consumed prefix is the frame; the rest belongs to the next one.
            guard let decoded = try? Envelope.frame(from: bytes), let frame = try? decoded.envelope.frame() else { return nil }
            #expect(frame.count == decoded.consumed)
            return frame + bytes.dropFirst(decoded.consumed)
        },
        Decoder(name: "document") { bytes in (try? TrustDocument.decode(bytes))?.encoded() },
        Decoder(name: "certificate") { bytes in (try? Certificate(wireBytes: bytes))?.wireBytes },
        Decoder(name: "revocation") { bytes in (try? Revocation(wireBytes: bytes))?.wireBytes },
    ]

    // MARK: Random valid values

    private static func name(using random: inout DeterministicRandom) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")
        return String((0..<Int.random(in: 1...TrustLimits.nodeNameBytesMax, using: &random)).map { _ in alphabet.randomElement(using: &random)! })
    }

    private static func reason(using random: inout DeterministicRandom) -> String {
        let pool: [Character] = ["a", " ", "é", "€", "🐦", "\n", "中"]
        var text = ""
        for _ in 0..<Int.random(in: 0...60, using: &random) { text.append(pool.randomElement(using: &random)!) }
        return text
    }

    private static func certificate(using random: inout DeterministicRandom, authority: Authority) -> Certificate {
        let node = NodeID(SigningKey.generate(using: &random).publicKey)
        let roles = Roles(rawValue: UInt64.random(in: 1...15, using: &random))
        let validFor = UInt64.random(in: 1...TrustLimits.validityMax, using: &random)
        let now = Bool.random(using: &random) ? UInt64.random(in: 0...4_000_000_000, using: &random) : UInt64.random(in: 0...(UInt64.max - validFor), using: &random)
        return try! authority.admit(node, name: name(using: &random), roles: roles, now: now, validFor: validFor)
    }

    private static func revocation(using random: inout DeterministicRandom, authority: Authority) -> Revocation {
        let node = NodeID(SigningKey.generate(using: &random).publicKey)
        return try! authority.revoke(node, now: UInt64.random(in: 0...UInt64.max, using: &random), reason: reason(using: &random))
    }

    private static func document(using random: inout DeterministicRandom, authority: Authority) -> TrustDocument {
        switch Int.random(in: 0..<6, using: &random) {
        case 0: return .identity(SigningKey.generate(using: &random))
        case 1: return .authoritySecret(SigningKey.generate(using: &random))
        case 2: return .authorityPublic(SigningKey.generate(using: &random).publicKey)
        case 3: return .certificate(certificate(using: &random, authority: authority))
        case 4: return .revocation(revocation(using: &random, authority: authority))
        default:
            let count = Int.random(in: 0...Keyring.keyCountMax, using: &random)
            let keys = (0..<count).map { _ in SymmetricKey.generate(using: &random) }
            return .keyring(try! Keyring(keys: keys, primaryIndex: count == 0 ? nil : Int.random(in: 0..<count, using: &random)))
        }
    }

    /// Valid encodings of every decoder's input type, to mutate.
    private static func validInputs(using random: inout DeterministicRandom, authority: Authority) -> [[UInt8]] {
        let certificate = certificate(using: &random, authority: authority)
        let revocation = revocation(using: &random, authority: authority)
        let tag = MessageTag.allCases.randomElement(using: &random)!
        let envelope = Envelope(tag: tag, body: tag == .certificate ? certificate.wireBytes : revocation.wireBytes)
        return [
            try! envelope.datagram(), try! envelope.frame(), document(using: &random, authority: authority).encoded(),
            certificate.wireBytes, revocation.wireBytes,
        ]
    }

    // MARK: Properties

    private func checkCanonical(_ bytes: [UInt8], with decoder: Decoder) -> Bool {
        guard let reencoded = decoder.run(bytes) else { return false }
        #expect(reencoded == bytes, "\(decoder.name) accepted a non-canonical encoding of \(bytes.count) bytes")
        return true
    }

    @Test("random bytes: every decoder refuses or decodes canonically", arguments: seeds)
    func randomBytes(seed: UInt64) {
        var random = DeterministicRandom(seed: seed)
        // Plausible starts reach past the first checks: a valid envelope header or a file header.
        let headers: [[UInt8]] = [
            [], [ProtocolVersion.current, 1], [ProtocolVersion.current, 2],
        ] + TrustDocument.Kind.allCases.map { TrustDocument.magic + [$0.rawValue, TrustDocument.formatVersion] }
        var accepted = [String: Int]()
        for round in 0..<2000 {
            let header = headers[round % headers.count]
            let length = Int.random(in: 0...(round % 7 == 0 ? 1300 : 200), using: &random)
            let bytes = header + StarlingCrypto.randomBytes(count: length, using: &random)
            for decoder in Self.decoders where checkCanonical(bytes, with: decoder) {
                accepted[decoder.name, default: 0] += 1
            }
            // The same bytes behind a frame length prefix (sometimes a little off).
            let claimed = UInt32(max(0, bytes.count + Int.random(in: -2...2, using: &random)))
            let prefix = (0..<4).map { UInt8(truncatingIfNeeded: claimed >> UInt32(24 - 8 * $0)) }
            if checkCanonical(prefix + bytes, with: Self.decoders[1]) { accepted["framed", default: 0] += 1 }
        }
        #expect(accepted["datagram", default: 0] > 100)
        #expect(accepted["framed", default: 0] > 100)
    }

    @Test("random valid values round-trip byte-exactly", arguments: seeds)
    func validValues(seed: UInt64) throws {
        var random = DeterministicRandom(seed: seed)
        let authority = Authority(signingKey: SigningKey.generate(using: &random))
        for _ in 0..<150 {
            let certificate = Self.certificate(using: &random, authority: authority)
            let decodedCertificate = try Certificate(wireBytes: certificate.wireBytes)
            #expect(decodedCertificate == certificate)
            #expect(decodedCertificate.wireBytes == certificate.wireBytes)
            try decodedCertificate.verify(authority: authority.publicKey, now: certificate.notBefore)

            let revocation = Self.revocation(using: &random, authority: authority)
            let decodedRevocation = try Revocation(wireBytes: revocation.wireBytes)
            #expect(decodedRevocation == revocation)
            try decodedRevocation.verify(authority: authority.publicKey)

            let document = Self.document(using: &random, authority: authority)
            let bytes = document.encoded()
            #expect(try TrustDocument.decode(bytes).encoded() == bytes)
            #expect(try TrustDocument.decode(bytes, expecting: document.kind).kind == document.kind)

            let envelope = Envelope(tag: .certificate, message: certificate)
            #expect(try Certificate(wireBytes: Envelope(datagram: envelope.datagram()).body) == certificate)
            let frame = try #require(try Envelope.frame(from: envelope.frame()))
            #expect(frame.envelope == envelope)
        }
    }

    @Test("mutations: refused, or canonical and (if signed) no longer verifying", arguments: seeds)
    func mutations(seed: UInt64) throws {
        var random = DeterministicRandom(seed: seed)
        let authority = Authority(signingKey: SigningKey.generate(using: &random))
        var accepted = [String: Int]()
        for _ in 0..<120 {
            let inputs = Self.validInputs(using: &random, authority: authority)
            for original in inputs {
                for _ in 0..<4 {
                    let mutated = mutate(original, using: &random)
                    for decoder in Self.decoders where checkCanonical(mutated, with: decoder) {
                        accepted[decoder.name, default: 0] += 1
                    }
                    // A signed value whose bytes changed must not verify any more.
                    if let certificate = try? Certificate(wireBytes: mutated) {
                        #expect((try? certificate.verify(authority: authority.publicKey, now: certificate.notBefore)) == nil)
                    }
                    if let revocation = try? Revocation(wireBytes: mutated) {
                        #expect((try? revocation.verify(authority: authority.publicKey)) == nil)
                    }
                    switch try? TrustDocument.decode(mutated) {
                    case nil: break
                    case let .certificate(certificate)?:
                        #expect((try? certificate.verify(authority: authority.publicKey, now: certificate.notBefore)) == nil)
                    case let .revocation(revocation)?:
                        #expect((try? revocation.verify(authority: authority.publicKey)) == nil)
                    case let document?:
                        Issue.record("a mutated \(document.kind) file passed its checksum")
                    }
                }
            }
        }
        // Every decoder must have been driven past its checks by some mutation.
        for decoder in Self.decoders {
            #expect(accepted[decoder.name, default: 0] > 0, "no mutation reached the accepting path of \(decoder.name)")
        }
    }
}
