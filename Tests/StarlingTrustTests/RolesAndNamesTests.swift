import StarlingCrypto
import StarlingTrust
import StarlingWire
import Testing

@Suite("Roles")
struct RolesTests {
    static let known = ["peer", "coordinator", "submit", "admin"]

    @Test("parsing is order-insensitive and the description is canonical")
    func parse() throws {
        #expect(try Roles(text: "peer") == .peer)
        #expect(try Roles(text: "peer,coordinator") == [.peer, .coordinator])
        #expect(try Roles(text: "coordinator,peer") == [.peer, .coordinator])
        #expect(try Roles(text: " admin , PEER ") == [.peer, .admin])
        #expect(try Roles(text: "admin,submit,coordinator,peer").description == "peer,coordinator,submit,admin")
        #expect(Roles([.admin, .peer]).description == "peer,admin")
        #expect(Roles().description == "")
    }

    @Test("every non-empty set of roles survives text and wire round trips")
    func allSubsets() throws {
        for raw in UInt64(1)...15 {
            let roles = Roles(rawValue: raw)
            #expect(try Roles(text: roles.description) == roles)
            let reversed = roles.description.split(separator: ",").reversed().joined(separator: ",")
            #expect(try Roles(text: reversed) == roles)
            #expect(try Roles(wireBytes: roles.wireBytes) == roles)
        }
    }

    @Test("unknown and repeated roles are named in the error")
    func errors() {
        #expect(throws: TrustError.unknownRole("boss", known: Self.known)) { try Roles(text: "peer,boss") }
        #expect(throws: TrustError.unknownRole("", known: Self.known)) { try Roles(text: "") }
        #expect(throws: TrustError.unknownRole("", known: Self.known)) { try Roles(text: "peer,") }
        #expect(throws: TrustError.unknownRole("", known: Self.known)) { try Roles(text: "peer,,submit") }
        #expect(throws: TrustError.unknownRole("peer;submit", known: Self.known)) { try Roles(text: "peer;submit") }
        #expect(throws: TrustError.repeatedRole("peer")) { try Roles(text: "peer,peer") }
        #expect(throws: TrustError.repeatedRole("peer")) { try Roles(text: "peer,submit,PEER") }
    }

    @Test("unknown role bits are refused on the wire", arguments: [16, 17, 1 << 63, UInt64.max] as [UInt64])
    func unknownBits(raw: UInt64) {
        #expect(throws: WireError.invalidValue(field: "roles", value: raw)) { try Roles(wireBytes: Roles(rawValue: raw).wireBytes) }
    }
}

@Suite("Node names and IDs")
struct NamesTests {
    @Test("valid names", arguments: ["a", "node-1", "A.b_c-9", "edge.cloud-01", String(repeating: "z", count: 64)])
    func valid(name: String) {
        #expect(NodeName.problem(with: name) == nil)
    }

    @Test("invalid names", arguments: [
        "", String(repeating: "z", count: 65), "with space", "tab\t", "slash/", "colon:", "ünï", "emoji🐦", "a,b",
        "new\nline", "nul\u{0}",
    ])
    func invalid(name: String) {
        #expect(NodeName.problem(with: name) != nil)
        #expect(throws: TrustError.self) {
            _ = try Fixture.authority.admit(Fixture.node, name: name, roles: .peer, now: 1, validFor: 60)
        }
    }

    @Test("NodeID text is 64 lowercase hex characters; parsing accepts upper case and surrounding space")
    func nodeIDText() throws {
        let id = Fixture.node
        #expect(id.text == Hex.encode(Fixture.nodeKey.publicKey.bytes))
        #expect(id.text.count == 64)
        #expect(id.description == id.text)
        #expect(id.short == String(id.text.prefix(8)))
        #expect(try NodeID(text: id.text) == id)
        #expect(try NodeID(text: id.text.uppercased()) == id)
        #expect(try NodeID(text: "  \(id.text)\n") == id)
        #expect(try NodeID(wireBytes: id.wireBytes) == id)
    }

    @Test("malformed NodeID text is refused with the text in the error")
    func nodeIDErrors() {
        let text = Fixture.node.text
        for bad in ["", String(text.dropLast()), text + "0", text + "00", String(text.dropLast()) + "g", "0x" + String(text.dropFirst(2)), String(text.prefix(32)) + " " + String(text.dropFirst(33))] {
            #expect(throws: TrustError.invalidNodeID(bad)) { try NodeID(text: bad) }
        }
    }

    @Test("every trust error describes itself")
    func descriptions() {
        let errors: [TrustError] = [
            .invalidNodeID("x"), .unknownRole("x", known: ["peer"]), .repeatedRole("peer"), .invalidName("x", reason: "y"),
            .invalidValidity("x"), .badSignature, .wrongAuthority(expected: "a", actual: "b"),
            .notYetValid(notBefore: 10, now: 1), .expired(notAfter: 1, now: 10), .revoked(at: 5), .missingRole(.admin),
            .malformed(.badMagic), .wrongFileKind(expected: "a", actual: "b"), .checksumMismatch, .keyMismatch,
        ]
        for error in errors { #expect(!error.description.isEmpty) }
        #expect(TrustError.expired(notAfter: 0, now: 86_400).description.contains("1970-01-01T00:00:00Z"))
        #expect(TrustError.missingRole([.submit, .admin]).description.contains("submit,admin"))
    }
}
