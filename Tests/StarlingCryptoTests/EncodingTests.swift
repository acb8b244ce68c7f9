import StarlingCrypto
import Testing

@Suite("Hex and Base64")
struct EncodingTests {
    @Test("hex encodes lowercase and decodes either case")
    func hexRoundTrip() throws {
        #expect(Hex.encode([]) == "")
        #expect(Hex.encode([0x00, 0x01, 0xAB, 0xFF]) == "0001abff")
        #expect(try Hex.decode("0001abff") == [0x00, 0x01, 0xAB, 0xFF])
        #expect(try Hex.decode("0001ABFF") == [0x00, 0x01, 0xAB, 0xFF])
        #expect(try Hex.decode("") == [])
        let all = (0...255).map { UInt8($0) }
        #expect(try Hex.decode(Hex.encode(all)) == all)
        #expect(Hex.encode(all) == hexString(all))
    }

    @Test("hex decoding is strict", arguments: [
        "0", "abc",  // odd length
        "zz", "0g", "g0", "+1",  // not hex digits
        "00zz", "0000 ", " 0000", "00 00", "00:00", "0x00",  // trailing or embedded garbage
        "\u{0}\u{0}", "é0", "é00", "\u{FF}\u{FF}",  // NUL and non-ASCII
    ])
    func hexStrict(text: String) {
        #expect(throws: CryptoError.invalidEncoding(what: "hex text")) { try Hex.decode(text) }
    }

    @Test("hex errors name what was being decoded")
    func hexWhat() {
        #expect(throws: CryptoError.invalidEncoding(what: "node id")) { try Hex.decode("xyz0", what: "node id") }
    }

    // RFC 4648 section 10.
    @Test("base64 known answers", arguments: [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
    ])
    func base64Known(plain: String, encoded: String) throws {
        #expect(Base64.encode(Array(plain.utf8)) == encoded)
        #expect(try Base64.decode(encoded) == Array(plain.utf8))
    }

    @Test("base64 round-trips every length")
    func base64RoundTrip() throws {
        var random = DeterministicRandom(seed: 51)
        for length in 0..<100 {
            let data = randomBytes(count: length, using: &random)
            #expect(try Base64.decode(Base64.encode(data)) == data)
        }
        let all = (0...255).map { UInt8($0) }
        #expect(try Base64.decode(Base64.encode(all)) == all)
    }

    @Test("base64 decoding is strict", arguments: [
        "Zg", "Zg=", "Zm8",  // missing padding
        "Zg===", "Zm9v=", "Zm9vYg==x", "Zm9v\n", " Zm9v", "Zm9v ", "Zm 9v",  // trailing or embedded garbage
        "Zh==", "Zm9=",  // non-zero trailing bits (non-canonical)
        "Zm9v!", "Zm-_", "Z", "=", "====",  // bad characters, lone symbols
        "Zm9vYg==Zm9v",  // data after padding
        "z\u{736}2", "\u{E9}\u{E9}", "Zm9v\u{FF}\u{FF}", "\u{7FF}\u{7FF}",  // non-ASCII bytes (found by fuzzing)
    ])
    func base64Strict(text: String) {
        #expect(throws: CryptoError.invalidEncoding(what: "base64 text")) { try Base64.decode(text) }
    }
}
