import StarlingCrypto
import StarlingTrust
import StarlingWire
import Testing

@Suite("Trust documents")
struct TrustDocumentTests {
    /// Builds a file by hand: header, payload and (for checksummed kinds) a valid checksum, so a
    /// test can reach the checks behind the checksum.
    private func file(kind: UInt8, version: UInt8 = TrustDocument.formatVersion, payload: [UInt8], checksum: Bool = true) -> [UInt8] {
        var bytes = TrustDocument.magic + [kind, version] + payload
        if checksum { bytes += ContentHash.of(bytes).bytes }
        return bytes
    }

    @Test("every kind round-trips byte-exactly and keeps its content")
    func roundTrips() throws {
        for (name, document) in Fixture.documents {
            let bytes = document.encoded()
            #expect(Array(bytes.prefix(8)) == Array("STARLING".utf8))
            #expect(bytes[8] == document.kind.rawValue)
            #expect(bytes[9] == TrustDocument.formatVersion)
            let decoded = try TrustDocument.decode(bytes)
            #expect(decoded.kind == document.kind, "\(name)")
            #expect(decoded.encoded() == bytes, "\(name)")
            #expect(try TrustDocument.decode(bytes, expecting: document.kind).kind == document.kind)
        }
        #expect(try TrustDocument.decode(TrustDocument.identity(Fixture.nodeKey).encoded()).signingKey?.publicKey == Fixture.nodeKey.publicKey)
        #expect(try TrustDocument.decode(TrustDocument.authorityPublic(Fixture.authority.publicKey).encoded()).publicKey == Fixture.authority.publicKey)
        #expect(try TrustDocument.decode(TrustDocument.certificate(Fixture.certificate()).encoded()).certificate == Fixture.certificate())
        #expect(try TrustDocument.decode(TrustDocument.revocation(Fixture.revocation()).encoded()).revocation == Fixture.revocation())
        #expect(try TrustDocument.decode(TrustDocument.keyring(Fixture.keyring(count: 3, primary: 1)).encoded()).keyring == Fixture.keyring(count: 3, primary: 1))
    }

    @Test("keyrings of every size round-trip, including empty and full")
    func keyringSizes() throws {
        for count in 0...Keyring.keyCountMax {
            for primary in count == 0 ? [0] : [0, count - 1] {
                let ring = Fixture.keyring(count: count, primary: primary)
                let decoded = try TrustDocument.decode(TrustDocument.keyring(ring).encoded()).keyring
                #expect(decoded == ring)
            }
        }
    }

    @Test("secret kinds are marked secret")
    func secrets() {
        #expect(TrustDocument.Kind.allCases.filter(\.isSecret) == [.identity, .authoritySecret, .keyring])
        for kind in TrustDocument.Kind.allCases { #expect(!kind.description.isEmpty) }
        #expect(TrustDocument.Kind.allCases.map(\.rawValue) == [1, 2, 3, 4, 5, 6], "kind numbers are part of the file format")
    }

    @Test("asking for one kind and getting another names both")
    func wrongKind() {
        let bytes = TrustDocument.certificate(Fixture.certificate()).encoded()
        #expect(expectTrustError { _ = try TrustDocument.decode(bytes, expecting: .identity) }
            == .wrongFileKind(expected: TrustDocument.Kind.identity.description, actual: TrustDocument.Kind.certificate.description))
    }

    @Test("wrong magic, unknown kind and unknown version are refused")
    func header() {
        #expect(expectTrustError { _ = try TrustDocument.decode([]) } == .malformed(.badMagic))
        #expect(expectTrustError { _ = try TrustDocument.decode(Array("STAR".utf8)) } == .malformed(.badMagic))
        #expect(expectTrustError { _ = try TrustDocument.decode(Array("STARLINX".utf8) + [1, 1]) } == .malformed(.badMagic))
        #expect(expectTrustError { _ = try TrustDocument.decode(Array("-----BEGIN PRIVATE KEY-----".utf8)) } == .malformed(.badMagic))
        #expect(expectTrustError { _ = try TrustDocument.decode(TrustDocument.magic) } == .malformed(.truncated(offset: 8, needed: 1)))
        #expect(expectTrustError { _ = try TrustDocument.decode(file(kind: 0, payload: [])) } == .malformed(.invalidValue(field: "file kind", value: 0)))
        #expect(expectTrustError { _ = try TrustDocument.decode(file(kind: 7, payload: [])) } == .malformed(.invalidValue(field: "file kind", value: 7)))
        if case .malformed(.invalidField)? = expectTrustError({ _ = try TrustDocument.decode(file(kind: 3, version: 2, payload: Fixture.authority.publicKey.bytes)) }) {} else {
            Issue.record("unknown format version accepted")
        }
    }

    @Test("a stored public key that does not match the seed is refused")
    func keyMismatch() {
        let payload = Fixture.nodeKey.seed.copiedBytes + Fixture.otherNode.publicKey.bytes
        #expect(expectTrustError { _ = try TrustDocument.decode(file(kind: 1, payload: payload)) } == .keyMismatch)
        #expect(expectTrustError { _ = try TrustDocument.decode(file(kind: 2, payload: payload)) } == .keyMismatch)
    }

    @Test("a bad checksum is reported as such")
    func checksum() {
        var bytes = TrustDocument.identity(Fixture.nodeKey).encoded()
        bytes[bytes.count - 1] ^= 1
        #expect(expectTrustError { _ = try TrustDocument.decode(bytes) } == .checksumMismatch)
    }

    @Test("keyring files are checked like keyrings")
    func keyringRules() {
        let key = [UInt8](repeating: 5, count: SymmetricKey.byteCount)
        let other = [UInt8](repeating: 6, count: SymmetricKey.byteCount)
        // Primary index beyond the keys.
        #expect(expectTrustError { _ = try TrustDocument.decode(file(kind: 6, payload: [1] + key + [2])) }
            == .malformed(.limitExceeded(field: "keyring primary", value: 2, limit: 1)))
        // Keys but no primary.
        if case .malformed? = expectTrustError({ _ = try TrustDocument.decode(file(kind: 6, payload: [1] + key + [0])) }) {} else {
            Issue.record("keyring without a primary accepted")
        }
        // The same key twice.
        if case .malformed? = expectTrustError({ _ = try TrustDocument.decode(file(kind: 6, payload: [2] + key + key + [1])) }) {} else {
            Issue.record("duplicate keyring keys accepted")
        }
        // More than 16 keys.
        #expect(expectTrustError { _ = try TrustDocument.decode(file(kind: 6, payload: [17] + [UInt8](repeating: 1, count: 17 * 32) + [1])) }
            == .malformed(.limitExceeded(field: "keyring size", value: 17, limit: 16)))
        #expect(throws: Never.self) { _ = try TrustDocument.decode(file(kind: 6, payload: [2] + key + other + [2])) }
    }

    @Test("truncation at every length and any appended byte are refused, for every kind")
    func truncateAndAppend() {
        for (name, document) in Fixture.documents {
            let bytes = document.encoded()
            for length in 0..<bytes.count {
                #expect(throws: TrustError.self, "\(name) truncated to \(length)") { _ = try TrustDocument.decode(Array(bytes.prefix(length))) }
            }
            for extra: UInt8 in [0, 1, 0xFF] {
                #expect(throws: TrustError.self, "\(name) + \(extra)") { _ = try TrustDocument.decode(bytes + [extra]) }
            }
            #expect(throws: TrustError.self) { _ = try TrustDocument.decode(bytes + bytes) }
        }
    }
}
