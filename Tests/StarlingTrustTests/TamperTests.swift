import StarlingCrypto
import StarlingTrust
import Testing

/// No single altered byte of any trust file goes unnoticed: it either fails to decode, or (for the
/// signed kinds, which carry no checksum) decodes to something that fails verification against the
/// right authority.
@Suite("Exhaustive tamper")
struct TamperTests {
    static let masks: [UInt8] = [0x01, 0x80, 0xFF]
    static let kinds = Fixture.documents.map(\.name)

    /// Whether a decoded document would be trusted: signed kinds must verify against the expected
    /// authority (at a time inside the certificate's window); any other kind is trusted once it
    /// decodes, because its checksum was accepted.
    private func isTrusted(_ document: TrustDocument) -> Bool {
        switch document {
        case let .certificate(certificate):
            return (try? certificate.verify(authority: Fixture.authority.publicKey, now: Fixture.issuedAt + 60)) != nil
        case let .revocation(revocation):
            return (try? revocation.verify(authority: Fixture.authority.publicKey)) != nil
        default:
            return true
        }
    }

    @Test("every byte, every mask: refused or untrusted", arguments: kinds)
    func everyByte(kind: String) throws {
        let document = try #require(Fixture.documents.first { $0.name == kind }?.document)
        let original = document.encoded()
        #expect(isTrusted(try TrustDocument.decode(original)), "the untampered \(kind) must be trusted")
        var refusedByDecode = 0
        var refusedByVerify = 0
        for index in original.indices {
            for mask in Self.masks {
                var tampered = original
                tampered[index] ^= mask
                do {
                    let decoded = try TrustDocument.decode(tampered)
                    #expect(!isTrusted(decoded), "\(kind): byte \(index) ^ \(mask) went undetected")
                    refusedByVerify += 1
                } catch {
                    refusedByDecode += 1
                }
            }
        }
        #expect(refusedByDecode + refusedByVerify == original.count * Self.masks.count)
        if document.kind == .certificate || document.kind == .revocation {
            #expect(refusedByVerify > 0, "the signature, not only the decoder, should have caught some")
        } else {
            #expect(refusedByVerify == 0)
        }
    }
}
