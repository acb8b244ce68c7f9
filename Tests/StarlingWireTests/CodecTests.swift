import StarlingWire
import Testing

@Suite("Reader and writer")
struct CodecTests {
    @Test("fixed-width integers are big-endian and round-trip")
    func fixedWidth() throws {
        var writer = WireWriter()
        writer.write(UInt8(0xAB))
        writer.write(UInt16(0x0102))
        writer.write(UInt32(0x0304_0506))
        writer.write(UInt64(0x0708_090A_0B0C_0D0E))
        writer.write(UInt64.max)
        #expect(writer.bytes == [0xAB, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14] + [UInt8](repeating: 0xFF, count: 8))
        var reader = WireReader(writer.bytes)
        #expect(try reader.readUInt8() == 0xAB)
        #expect(try reader.readUInt16() == 0x0102)
        #expect(try reader.readUInt32() == 0x0304_0506)
        #expect(try reader.readUInt64() == 0x0708_090A_0B0C_0D0E)
        #expect(try reader.readUInt64() == .max)
        #expect(reader.isAtEnd)
        try reader.expectEnd()
    }

    @Test("a full sample round-trips byte-exactly")
    func sampleRoundTrip() throws {
        var sample = Sample()
        sample.small = 7
        sample.short = 0xBEEF
        sample.medium = 123_456
        sample.large = .max
        sample.flag = true
        sample.count = 300
        sample.name = "Grüße 🐦"
        sample.blob = [1, 2, 3]
        sample.digest = [9, 8, 7, 6]
        sample.items = [Item(id: 1, label: "one"), Item(id: 1 << 40, label: "")]
        sample.extra = Item(id: 0, label: "x")
        let bytes = sample.wireBytes
        let decoded = try Sample(wireBytes: bytes)
        #expect(decoded == sample)
        #expect(decoded.wireBytes == bytes)
        #expect(try Sample(wireBytes: Sample().wireBytes) == Sample())
    }

    @Test("booleans are exactly 0 or 1")
    func booleans() throws {
        for byte in 0...255 {
            var reader = WireReader([UInt8(byte)])
            switch byte {
            case 0: #expect(try reader.readBool() == false)
            case 1: #expect(try reader.readBool() == true)
            default:
                #expect(expectWireError { _ = try reader.readBool(field: "flag") }
                    == .invalidValue(field: "flag", value: UInt64(byte)))
            }
        }
    }

    @Test("an optional's presence byte is a strict boolean")
    func optionalPresence() throws {
        var none = WireReader([0])
        #expect(try none.readOptional(Item.self, field: "extra") == nil)
        var some = WireReader([1, 5, 1, 0x41])
        #expect(try some.readOptional(Item.self, field: "extra") == Item(id: 5, label: "A"))
        var bad = WireReader([2, 5, 1, 0x41])
        #expect(expectWireError { _ = try bad.readOptional(Item.self, field: "extra") }
            == .invalidValue(field: "extra", value: 2))
    }

    @Test("text at the limit passes, one byte over is refused before reading it")
    func stringLimit() throws {
        let limit = WireLimits.stringBytesMax
        var writer = WireWriter()
        writer.writeString(String(repeating: "a", count: limit))
        var atLimit = WireReader(writer.bytes)
        #expect(try atLimit.readString(field: "name").utf8.count == limit)

        var over = WireWriter()
        over.writeString(String(repeating: "a", count: limit + 1))
        var reader = WireReader(over.bytes)
        #expect(expectWireError { _ = try reader.readString(field: "name") }
            == .limitExceeded(field: "name", value: UInt64(limit + 1), limit: limit))

        // Multi-byte characters count in bytes, not characters.
        var wide = WireWriter()
        wide.writeString(String(repeating: "€", count: limit / 3 + 1))
        var wideReader = WireReader(wide.bytes)
        #expect(expectWireError { _ = try wideReader.readString(field: "name") }
            == .limitExceeded(field: "name", value: UInt64((limit / 3 + 1) * 3), limit: limit))
    }

    @Test("a byte field's length is checked against its limit before any allocation")
    func bytesLimit() throws {
        var claim = WireWriter()
        claim.writeVarint(UInt64(WireLimits.bytesFieldMax + 1))  // no data follows
        var reader = WireReader(claim.bytes)
        #expect(expectWireError { _ = try reader.readBytes(field: "blob") }
            == .limitExceeded(field: "blob", value: UInt64(WireLimits.bytesFieldMax + 1), limit: WireLimits.bytesFieldMax))

        var small = WireWriter()
        small.writeBytes([UInt8](repeating: 1, count: 65))
        var smallReader = WireReader(small.bytes)
        #expect(expectWireError { _ = try smallReader.readBytes(field: "blob", limit: 64) }
            == .limitExceeded(field: "blob", value: 65, limit: 64))

        var exact = WireWriter()
        exact.writeBytes([UInt8](repeating: 1, count: 64))
        var exactReader = WireReader(exact.bytes)
        #expect(try exactReader.readBytes(field: "blob", limit: 64).count == 64)

        // A length within the limit but beyond the input is a truncation.
        var short = WireReader([10, 1, 2, 3])
        #expect(expectWireError { _ = try short.readBytes(field: "blob") } == .truncated(offset: 1, needed: 7))
    }

    @Test("a list of exactly listCountMax elements decodes; one more is refused")
    func listLimit() throws {
        let limit = WireLimits.listCountMax
        var writer = WireWriter(capacity: limit + 8)
        writer.writeList([Byte](repeating: Byte(3), count: limit))
        var reader = WireReader(writer.bytes)
        let values = try reader.readList(Byte.self, field: "values")
        #expect(values.count == limit)
        try reader.expectEnd()

        var over = WireWriter()
        over.writeVarint(UInt64(limit + 1))
        var overReader = WireReader(over.bytes + [UInt8](repeating: 3, count: limit + 1))
        #expect(expectWireError { _ = try overReader.readList(Byte.self, field: "values") }
            == .limitExceeded(field: "values", value: UInt64(limit + 1), limit: limit))
    }

    @Test("a list count larger than the remaining input is refused before allocating")
    func listCountBeyondInput() {
        var writer = WireWriter()
        writer.writeVarint(UInt64(60_000))
        var reader = WireReader(writer.bytes + [1, 2, 3])
        #expect(isTruncation(expectWireError { _ = try reader.readList(Byte.self, field: "values") }))
    }

    @Test("invalid UTF-8 is refused", arguments: [
        [0xC3, 0x28] as [UInt8],  // bad continuation
        [0xFF],  // never valid
        [0xC0, 0x80],  // overlong NUL
        [0xE0, 0x80, 0xAF],  // overlong '/'
        [0xED, 0xA0, 0x80],  // UTF-16 surrogate
        [0xE2, 0x82],  // cut-off sequence
        [0xF4, 0x90, 0x80, 0x80],  // beyond U+10FFFF
        [0x61, 0x80],  // lone continuation byte
    ])
    func invalidUTF8(bytes: [UInt8]) {
        var writer = WireWriter()
        writer.writeBytes(bytes)
        var reader = WireReader(writer.bytes)
        #expect(expectWireError { _ = try reader.readString(field: "label") } == .invalidUTF8(field: "label"))
    }

    @Test("trailing bytes after a complete value are refused")
    func trailingBytes() {
        let bytes = Sample().wireBytes
        #expect(expectWireError { _ = try Sample(wireBytes: bytes + [0]) } == .trailingBytes(count: 1))
        #expect(expectWireError { _ = try Sample(wireBytes: bytes + [1, 2, 3]) } == .trailingBytes(count: 3))
        #expect(expectWireError { _ = try Item(wireBytes: [1, 0, 0]) } == .trailingBytes(count: 1))
    }

    @Test("every strict prefix of an encoding is a typed truncation, never a trap")
    func truncationAtEveryPrefix() throws {
        var random = TestRandom(seed: 7)
        for _ in 0..<20 {
            let bytes = random.sample().wireBytes
            for length in 0..<bytes.count {
                let error = expectWireError { _ = try Sample(wireBytes: bytes[..<length]) }
                #expect(isTruncation(error), "prefix of \(length) of \(bytes.count) bytes gave \(String(describing: error))")
            }
            // The slice path (non-zero start index) decodes the same value.
            let framed = [0xEE] + bytes
            #expect(try Sample(wireBytes: framed[1...]).wireBytes == bytes)
        }
    }

    @Test("reading past the end reports how much was missing")
    func truncationDetails() {
        var reader = WireReader([1, 2, 3])
        #expect(expectWireError { _ = try reader.readUInt32() } == .truncated(offset: 0, needed: 1))
        #expect(expectWireError { _ = try reader.readUInt64() } == .truncated(offset: 0, needed: 5))
        #expect(expectWireError { _ = try reader.readFixed(10) } == .truncated(offset: 0, needed: 7))
        #expect(reader.offset == 0, "a failed read consumes nothing")
    }

    @Test("errors describe themselves")
    func descriptions() {
        let errors: [WireError] = [
            .truncated(offset: 1, needed: 2), .nonCanonicalVarint(offset: 0), .varintOverflow(offset: 0),
            .limitExceeded(field: "f", value: 2, limit: 1), .invalidUTF8(field: "f"),
            .invalidValue(field: "f", value: 9), .trailingBytes(count: 1),
            .unsupportedVersion(9, supported: 1...1), .unknownTag(99), .badMagic, .invalidField("reason"),
        ]
        for error in errors { #expect(!error.description.isEmpty) }
    }
}
