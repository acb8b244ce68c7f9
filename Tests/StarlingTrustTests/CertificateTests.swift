import StarlingCrypto
import StarlingTrust
import StarlingWire
import Testing

@Suite("Certificates")
struct CertificateTests {
    let authority = Fixture.authority
    let start = Fixture.issuedAt
    let skew = TrustLimits.clockSkewSeconds

    @Test("an issued certificate verifies and carries what was asked")
    func happyPath() throws {
        let certificate = Fixture.certificate(roles: [.peer, .submit])
        #expect(certificate.authority == authority.publicKey)
        #expect(certificate.node == Fixture.node)
        #expect(certificate.name == "node-a")
        #expect(certificate.roles == [.peer, .submit])
        #expect(certificate.notBefore == start)
        #expect(certificate.notAfter == start + Fixture.validFor)
        #expect(certificate.hasValidSignature)
        try certificate.verify(authority: authority.publicKey, now: start)
        try certificate.verify(authority: authority.publicKey, now: start + 1000, requiring: [.peer, .submit])
        #expect(Array(certificate.signedBytes.prefix(Certificate.signingContext.count)) == Certificate.signingContext)

        let decoded = try Certificate(wireBytes: certificate.wireBytes)
        #expect(decoded == certificate)
        try decoded.verify(authority: authority.publicKey, now: start)
    }

    @Test("a certificate from another authority is refused")
    func wrongAuthority() {
        let foreign = Fixture.certificate(by: Fixture.otherAuthority)
        #expect(foreign.hasValidSignature)
        #expect(expectTrustError { try foreign.verify(authority: authority.publicKey, now: start) }
            == .wrongAuthority(expected: Hex.encode(authority.publicKey.bytes), actual: Hex.encode(Fixture.otherAuthority.publicKey.bytes)))
    }

    @Test("a foreign certificate relabelled with our authority's key has a bad signature")
    func relabelledAuthority() throws {
        var bytes = Fixture.certificate(by: Fixture.otherAuthority).wireBytes
        bytes.replaceSubrange(0..<PublicKey.byteCount, with: authority.publicKey.bytes)
        let forged = try Certificate(wireBytes: bytes)
        #expect(expectTrustError { try forged.verify(authority: authority.publicKey, now: start) } == .badSignature)
    }

    @Test("any flipped signature byte is a bad signature")
    func flippedSignature() throws {
        let bytes = Fixture.certificate().wireBytes
        let signatureStart = bytes.count - Signature.byteCount
        for index in signatureStart..<bytes.count {
            var tampered = bytes
            tampered[index] ^= 0x01
            let certificate = try Certificate(wireBytes: tampered)
            #expect(!certificate.hasValidSignature)
            #expect(expectTrustError { try certificate.verify(authority: authority.publicKey, now: start) } == .badSignature)
        }
    }

    @Test("a changed name, node, role or window is a bad signature")
    func changedFields() throws {
        let original = Fixture.certificate(name: "node-a", roles: [.peer])
        var bytes = original.wireBytes
        // authority (32) | node (32) | name length (1) | name | roles | notBefore | notAfter | signature
        let nameStart = 2 * PublicKey.byteCount + 1
        #expect(Array(bytes[nameStart..<nameStart + 6]) == Array("node-a".utf8))
        bytes[nameStart + 5] = UInt8(ascii: "b")
        let renamed = try Certificate(wireBytes: bytes)
        #expect(renamed.name == "node-b")
        #expect(expectTrustError { try renamed.verify(authority: authority.publicKey, now: start) } == .badSignature)

        var promoted = original.wireBytes
        promoted[nameStart + 6] = UInt8(Roles([.peer, .admin]).rawValue)
        let promotedCertificate = try Certificate(wireBytes: promoted)
        #expect(promotedCertificate.roles == [.peer, .admin])
        #expect(expectTrustError { try promotedCertificate.verify(authority: authority.publicKey, now: start) } == .badSignature)

        var otherNode = original.wireBytes
        otherNode.replaceSubrange(PublicKey.byteCount..<2 * PublicKey.byteCount, with: Fixture.otherNode.publicKey.bytes)
        let stolen = try Certificate(wireBytes: otherNode)
        #expect(expectTrustError { try stolen.verify(authority: authority.publicKey, now: start) } == .badSignature)
    }

    @Test("validity window with clock-skew tolerance at both ends")
    func window() throws {
        #expect(skew == 300)
        let certificate = Fixture.certificate()
        let end = certificate.notAfter
        for now in [start - skew, start - 1, start, end, end + skew] {
            try certificate.verify(authority: authority.publicKey, now: now)
        }
        #expect(expectTrustError { try certificate.verify(authority: authority.publicKey, now: start - skew - 1) }
            == .notYetValid(notBefore: start, now: start - skew - 1))
        #expect(expectTrustError { try certificate.verify(authority: authority.publicKey, now: 0) }
            == .notYetValid(notBefore: start, now: 0))
        #expect(expectTrustError { try certificate.verify(authority: authority.publicKey, now: end + skew + 1) }
            == .expired(notAfter: end, now: end + skew + 1))
        #expect(expectTrustError { try certificate.verify(authority: authority.publicKey, now: .max) }
            == .expired(notAfter: end, now: .max))
    }

    @Test("skew arithmetic at the ends of the clock does not trap")
    func windowExtremes() throws {
        let early = Fixture.certificate(now: 0, validFor: 10)
        try early.verify(authority: authority.publicKey, now: 0)
        try early.verify(authority: authority.publicKey, now: 10 + skew)
        #expect(expectTrustError { try early.verify(authority: authority.publicKey, now: 11 + skew) } == .expired(notAfter: 10, now: 11 + skew))
        let late = Fixture.certificate(now: .max - 10, validFor: 10)
        try late.verify(authority: authority.publicKey, now: .max)
        try late.verify(authority: authority.publicKey, now: .max - 10 - skew)
        #expect(expectTrustError { try late.verify(authority: authority.publicKey, now: 0) } == .notYetValid(notBefore: .max - 10, now: 0))
    }

    @Test("a revoked node is refused; revocations of others do not matter")
    func revoked() throws {
        let certificate = Fixture.certificate()
        var list = RevocationList()
        try list.insert(Fixture.revocation(of: Fixture.otherNode), authority: authority.publicKey)
        try certificate.verify(authority: authority.publicKey, now: start, revocations: list)
        try list.insert(Fixture.revocation(of: Fixture.node, at: start + 5), authority: authority.publicKey)
        #expect(list.count == 2)
        #expect(expectTrustError { try certificate.verify(authority: authority.publicKey, now: start, revocations: list) }
            == .revoked(at: start + 5))
    }

    @Test("a missing role is named")
    func missingRole() throws {
        let certificate = Fixture.certificate(roles: [.peer, .submit])
        #expect(expectTrustError { try certificate.verify(authority: authority.publicKey, now: start, requiring: [.coordinator]) }
            == .missingRole(.coordinator))
        #expect(expectTrustError { try certificate.verify(authority: authority.publicKey, now: start, requiring: [.peer, .admin, .coordinator]) }
            == .missingRole([.admin, .coordinator]))
        try certificate.verify(authority: authority.publicKey, now: start, requiring: [])
        try certificate.verify(authority: authority.publicKey, now: start, requiring: .submit)
    }

    @Test("the authority refuses to issue bad certificates")
    func admitChecks() {
        let node = Fixture.node
        #expect(expectTrustError { _ = try authority.admit(node, name: "a", roles: [], now: start, validFor: 60) }
            == .invalidValidity("a certificate needs at least one role"))
        if case .invalidValidity? = expectTrustError({ _ = try authority.admit(node, name: "a", roles: .peer, now: start, validFor: 0) }) {} else {
            Issue.record("zero validity accepted")
        }
        if case .invalidValidity? = expectTrustError({ _ = try authority.admit(node, name: "a", roles: .peer, now: start, validFor: TrustLimits.validityMax + 1) }) {} else {
            Issue.record("validity over the maximum accepted")
        }
        if case .invalidValidity? = expectTrustError({ _ = try authority.admit(node, name: "a", roles: .peer, now: .max - 5, validFor: 10) }) {} else {
            Issue.record("window past the end of time accepted")
        }
        if case .invalidName? = expectTrustError({ _ = try authority.admit(NodeID(authority.publicKey), name: "a", roles: .peer, now: start, validFor: 60) }) {} else {
            Issue.record("authority key admitted as a node")
        }
        if case .invalidName("bad name", _)? = expectTrustError({ _ = try authority.admit(node, name: "bad name", roles: .peer, now: start, validFor: 60) }) {} else {
            Issue.record("invalid name accepted")
        }
        #expect(throws: Never.self) { _ = try authority.admit(node, name: "a", roles: .peer, now: start, validFor: TrustLimits.validityMax) }
    }

    @Test("decoding refuses invalid names and inverted windows even with a signature")
    func decodeChecks() throws {
        func encoded(name: String, notBefore: UInt64, notAfter: UInt64, roles: UInt64 = 1) -> [UInt8] {
            var writer = WireWriter()
            writer.write(authority.publicKey)
            writer.write(Fixture.node)
            writer.writeString(name)
            writer.writeVarint(roles)
            writer.writeVarint(notBefore)
            writer.writeVarint(notAfter)
            writer.writeFixed([UInt8](repeating: 0, count: Signature.byteCount))
            return writer.bytes
        }
        #expect(throws: Never.self) { _ = try Certificate(wireBytes: encoded(name: "ok", notBefore: 5, notAfter: 5)) }
        for name in ["", "has space", "slash/", String(repeating: "a", count: 65), "ünïcode"] {
            #expect(throws: WireError.self, "name '\(name)'") { _ = try Certificate(wireBytes: encoded(name: name, notBefore: 1, notAfter: 2)) }
        }
        #expect(throws: WireError.invalidField("certificate window ends before it starts")) {
            _ = try Certificate(wireBytes: encoded(name: "ok", notBefore: 6, notAfter: 5))
        }
        #expect(throws: WireError.invalidValue(field: "roles", value: 16)) {
            _ = try Certificate(wireBytes: encoded(name: "ok", notBefore: 1, notAfter: 2, roles: 16))
        }
    }
}

@Suite("Revocations")
struct RevocationTests {
    let authority = Fixture.authority

    @Test("a revocation verifies against its authority only, and round-trips")
    func verify() throws {
        let revocation = Fixture.revocation(reason: "stolen laptop ✈")
        try revocation.verify(authority: authority.publicKey)
        #expect(expectTrustError { try revocation.verify(authority: Fixture.otherAuthority.publicKey) }
            == .wrongAuthority(expected: Hex.encode(Fixture.otherAuthority.publicKey.bytes), actual: Hex.encode(authority.publicKey.bytes)))
        let decoded = try Revocation(wireBytes: revocation.wireBytes)
        #expect(decoded == revocation)
        #expect(Array(revocation.signedBytes.prefix(Revocation.signingContext.count)) == Revocation.signingContext)
    }

    @Test("a tampered revocation is refused by the list")
    func tampered() throws {
        var bytes = Fixture.revocation().wireBytes
        bytes[bytes.count - 1] ^= 0x01
        let tampered = try Revocation(wireBytes: bytes)
        var list = RevocationList()
        #expect(expectTrustError { try list.insert(tampered, authority: authority.publicKey) } == .badSignature)
        #expect(expectTrustError { try list.insert(Fixture.revocation(), authority: Fixture.otherAuthority.publicKey) } != nil)
        #expect(list.count == 0)
    }

    @Test("the list keeps the earliest revocation whatever the order (commutative merge)")
    func earliestWins() throws {
        let early = Fixture.revocation(at: 100)
        let late = Fixture.revocation(at: 200, reason: "again")
        var forward = RevocationList()
        try forward.insert(early, authority: authority.publicKey)
        try forward.insert(late, authority: authority.publicKey)
        var backward = RevocationList()
        try backward.insert(late, authority: authority.publicKey)
        try backward.insert(early, authority: authority.publicKey)
        #expect(forward == backward)
        #expect(forward.revocation(of: Fixture.node) == early)
        #expect(forward.count == 1)
        #expect(forward.revocation(of: Fixture.otherNode) == nil)
    }

    @Test("reasons are limited to 256 bytes")
    func reasonLimit() throws {
        let longest = String(repeating: "x", count: TrustLimits.reasonBytesMax)
        let revocation = try authority.revoke(Fixture.node, now: 1, reason: longest)
        #expect(try Revocation(wireBytes: revocation.wireBytes) == revocation)
        if case .invalidValidity? = expectTrustError({ _ = try authority.revoke(Fixture.node, now: 1, reason: longest + "x") }) {} else {
            Issue.record("overlong reason accepted")
        }
        var writer = WireWriter()
        writer.write(authority.publicKey)
        writer.write(Fixture.node)
        writer.writeVarint(UInt64(1))
        writer.writeString(longest + "x")
        writer.writeFixed([UInt8](repeating: 0, count: Signature.byteCount))
        #expect(throws: WireError.limitExceeded(field: "revocation reason", value: 257, limit: 256)) {
            _ = try Revocation(wireBytes: writer.bytes)
        }
    }
}
