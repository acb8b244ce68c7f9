import StarlingWire
import Testing

@Suite("Varints")
struct VarintTests {
    private func encode(_ value: UInt64) -> [UInt8] {
        var writer = WireWriter()
        writer.writeVarint(value)
        return writer.bytes
    }

    private func decode(_ bytes: [UInt8]) throws -> UInt64 {
        var reader = WireReader(bytes)
        let value = try reader.readVarint()
        try reader.expectEnd()
        return value
    }

    static let knownCases: [(value: UInt64, bytes: [UInt8])] = [
        (0, [0x00]),
        (1, [0x01]),
        (127, [0x7F]),
        (128, [0x80, 0x01]),
        (255, [0xFF, 0x01]),
        (300, [0xAC, 0x02]),
        (16_383, [0xFF, 0x7F]),
        (16_384, [0x80, 0x80, 0x01]),
        (UInt64(UInt32.max), [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]),
        (UInt64(1) << 63, [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
        (UInt64.max, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
    ]

    @Test("known encodings", arguments: knownCases)
    func knownEncodings(value: UInt64, bytes: [UInt8]) throws {
        #expect(encode(value) == bytes)
        #expect(try decode(bytes) == value)
    }

    @Test("every power of two and its neighbours round-trips in the shortest form")
    func powersOfTwo() throws {
        var values: Set<UInt64> = [0, UInt64.max, UInt64.max - 1]
        for shift in 0..<64 {
            let power = UInt64(1) << UInt64(shift)
            values.formUnion([power - 1, power, power + 1])
        }
        for value in values {
            let bytes = encode(value)
            let significantBits = 64 - value.leadingZeroBitCount
            #expect(bytes.count == max(1, (significantBits + 6) / 7), "length of \(value)")
            #expect(try decode(bytes) == value)
        }
    }

    @Test("the Int overload writes the same bytes")
    func intOverload() {
        for value in [0, 1, 127, 128, 1 << 40, Int.max] {
            var writer = WireWriter()
            writer.writeVarint(value)
            #expect(writer.bytes == encode(UInt64(value)))
        }
    }

    @Test("overlong forms are refused", arguments: [
        [0x80, 0x00] as [UInt8],  // 0 in two bytes
        [0xFF, 0x00],  // 127 in two bytes
        [0x80, 0x80, 0x00],  // 0 in three bytes
        [0x81, 0x80, 0x00],  // 1 in three bytes
        [0xFF, 0xFF, 0xFF, 0xFF, 0x8F, 0x00],  // UInt32.max in six bytes
        [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00],  // 0 in ten bytes
    ])
    func overlong(bytes: [UInt8]) {
        #expect(expectWireError { _ = try decode(bytes) } == .nonCanonicalVarint(offset: 0))
    }

    @Test("a non-canonical varint is reported at its own offset")
    func overlongOffset() {
        var reader = WireReader([0x07, 0x07, 0x80, 0x00])
        #expect(throws: Never.self) { _ = try reader.readUInt8() }
        #expect(throws: Never.self) { _ = try reader.readVarint() }
        #expect(expectWireError { _ = try reader.readVarint() } == .nonCanonicalVarint(offset: 2))
    }

    @Test("values over 64 bits are refused", arguments: [
        [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02] as [UInt8],  // 2^64
        [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F],
        [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01],  // 2^70, eleven bytes
        [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x81, 0x00],
        [UInt8](repeating: 0xFF, count: 20),
    ])
    func overflow(bytes: [UInt8]) {
        #expect(expectWireError { _ = try decode(bytes) } == .varintOverflow(offset: 0))
    }

    @Test("a varint cut short is a truncation")
    func truncated() {
        #expect(expectWireError { _ = try decode([]) } == .truncated(offset: 0, needed: 1))
        #expect(expectWireError { _ = try decode([0x80]) } == .truncated(offset: 1, needed: 1))
        let full = encode(.max)
        for length in 0..<full.count {
            #expect(isTruncation(expectWireError { _ = try decode(Array(full.prefix(length))) }))
        }
    }

    @Test("readCount enforces its limit after decoding")
    func countLimit() throws {
        var reader = WireReader(encode(10) + encode(11))
        #expect(try reader.readCount(field: "things", limit: 10) == 10)
        #expect(expectWireError { _ = try reader.readCount(field: "things", limit: 10) }
            == .limitExceeded(field: "things", value: 11, limit: 10))
        var huge = WireReader(encode(.max))
        #expect(expectWireError { _ = try huge.readCount(field: "things", limit: Int.max) }
            == .limitExceeded(field: "things", value: .max, limit: Int.max))
    }
}
