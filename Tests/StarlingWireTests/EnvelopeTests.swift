import StarlingWire
import Testing

@Suite("Envelope")
struct EnvelopeTests {
    @Test("a datagram is version, tag, body")
    func datagramLayout() throws {
        let envelope = Envelope(tag: .revocation, body: [0xAA, 0xBB])
        let bytes = try envelope.datagram()
        #expect(bytes == [ProtocolVersion.current, 2, 0xAA, 0xBB])
        #expect(try Envelope(datagram: bytes) == envelope)
        #expect(try Envelope(datagram: [ProtocolVersion.current, 1]) == Envelope(tag: .certificate, body: []))
    }

    @Test("an envelope built from a message carries the message's canonical bytes")
    func messageInit() throws {
        let item = Item(id: 300, label: "x")
        let envelope = Envelope(tag: .certificate, message: item)
        #expect(envelope.body == item.wireBytes)
        #expect(envelope.version == ProtocolVersion.current)
        #expect(try Item(wireBytes: Envelope(datagram: envelope.datagram()).body) == item)
    }

    @Test("datagrams up to 1200 bytes round-trip; larger ones are refused both ways")
    func datagramLimit() throws {
        let limit = WireLimits.datagramBytesMax
        #expect(limit == 1200)
        let headerBytes = 2  // version + one-byte tag
        let largest = Envelope(tag: .certificate, body: [UInt8](repeating: 7, count: limit - headerBytes))
        let bytes = try largest.datagram()
        #expect(bytes.count == limit)
        #expect(try Envelope(datagram: bytes) == largest)

        let tooLarge = Envelope(tag: .certificate, body: [UInt8](repeating: 7, count: limit - headerBytes + 1))
        #expect(expectWireError { _ = try tooLarge.datagram() }
            == .limitExceeded(field: "datagram", value: UInt64(limit + 1), limit: limit))
        #expect(expectWireError { _ = try Envelope(datagram: bytes + [0]) }
            == .limitExceeded(field: "datagram", value: UInt64(limit + 1), limit: limit))
        // The size check comes first, whatever the content.
        #expect(expectWireError { _ = try Envelope(datagram: [UInt8](repeating: 0xFF, count: 5000)) }
            == .limitExceeded(field: "datagram", value: 5000, limit: limit))
    }

    @Test("an empty or header-only datagram is a truncation")
    func datagramTruncated() {
        #expect(expectWireError { _ = try Envelope(datagram: [UInt8]()) } == .truncated(offset: 0, needed: 1))
        #expect(expectWireError { _ = try Envelope(datagram: [ProtocolVersion.current]) } == .truncated(offset: 1, needed: 1))
        #expect(expectWireError { _ = try Envelope(datagram: [ProtocolVersion.current, 0x81]) } == .truncated(offset: 2, needed: 1))
    }

    @Test("versions outside the supported range are refused", arguments: [0, 2, 0x7F, 0xFF] as [UInt8])
    func unsupportedVersion(version: UInt8) throws {
        #expect(!ProtocolVersion.supported.contains(version))
        let expected = WireError.unsupportedVersion(version, supported: ProtocolVersion.supported)
        #expect(expectWireError { _ = try Envelope(datagram: [version, 1, 0]) } == expected)
        #expect(expectWireError { _ = try Envelope.frame(from: [0, 0, 0, 3, version, 1, 0]) } == expected)
    }

    @Test("the current version is supported")
    func currentVersion() {
        #expect(ProtocolVersion.supported.contains(ProtocolVersion.current))
    }

    /// Numbers no build knows yet: zero (never assigned), the one after the newest, and large ones.
    static let unknownTags: [UInt64] = {
        let next = MessageTag.allCases.map(\.rawValue).max()! + 1
        return [0, next, next + 1, 127, 128, 255, 1 << 32, UInt64.max].filter { MessageTag(rawValue: $0) == nil }
    }()

    @Test("unknown tags are refused", arguments: unknownTags)
    func unknownTag(tag: UInt64) {
        var writer = WireWriter()
        writer.write(ProtocolVersion.current)
        writer.writeVarint(tag)
        writer.writeFixed([0xAB])
        let bytes = writer.bytes
        #expect(expectWireError { _ = try Envelope(datagram: bytes) } == .unknownTag(tag))
        let frame = [0, 0, 0, UInt8(bytes.count)] + bytes
        #expect(expectWireError { _ = try Envelope.frame(from: frame) } == .unknownTag(tag))
    }

    @Test("a tag in a non-canonical varint is refused")
    func nonCanonicalTag() {
        #expect(expectWireError { _ = try Envelope(datagram: [ProtocolVersion.current, 0x81, 0x00]) }
            == .nonCanonicalVarint(offset: 1))
    }

    @Test("a frame is a 4-byte big-endian length, then version, tag, body")
    func frameLayout() throws {
        let envelope = Envelope(tag: .certificate, body: [1, 2, 3])
        let bytes = try envelope.frame()
        #expect(bytes == [0, 0, 0, 5, ProtocolVersion.current, 1, 1, 2, 3])
        let decoded = try #require(try Envelope.frame(from: bytes))
        #expect(decoded.envelope == envelope)
        #expect(decoded.consumed == bytes.count)
    }

    @Test("frames read back one at a time from a stream buffer")
    func frameStream() throws {
        let envelopes = (0..<5).map { Envelope(tag: $0 % 2 == 0 ? .certificate : .revocation, body: [UInt8](repeating: UInt8($0), count: $0 * 100)) }
        var stream: [UInt8] = []
        for envelope in envelopes { stream += try envelope.frame() }
        var buffer = stream[...]
        var decoded: [Envelope] = []
        while let frame = try Envelope.frame(from: buffer) {
            decoded.append(frame.envelope)
            buffer = buffer.dropFirst(frame.consumed)
        }
        #expect(decoded == envelopes)
        #expect(buffer.isEmpty)
    }

    @Test("every partial frame returns nil (wait for more bytes)")
    func partialFrame() throws {
        let bytes = try Envelope(tag: .revocation, body: [UInt8](repeating: 9, count: 40)).frame()
        for length in 0..<bytes.count {
            #expect(try Envelope.frame(from: bytes.prefix(length)) == nil, "prefix \(length)")
        }
        #expect(try Envelope.frame(from: bytes)?.consumed == bytes.count)
        // A stream that already holds the start of the next frame still yields the first one only.
        #expect(try Envelope.frame(from: bytes + bytes.prefix(6))?.consumed == bytes.count)
    }

    @Test("a length over the limit is refused as soon as the 4-byte prefix arrives")
    func frameLengthOverLimit() throws {
        let limit = WireLimits.frameBytesMax
        let over = UInt32(limit + 1)
        let prefix: [UInt8] = [UInt8(over >> 24), UInt8(over >> 16 & 0xFF), UInt8(over >> 8 & 0xFF), UInt8(over & 0xFF)]
        #expect(expectWireError { _ = try Envelope.frame(from: prefix) }
            == .limitExceeded(field: "frame", value: UInt64(limit + 1), limit: limit))
        #expect(expectWireError { _ = try Envelope.frame(from: [0xFF, 0xFF, 0xFF, 0xFF]) }
            == .limitExceeded(field: "frame", value: UInt64(UInt32.max), limit: limit))
        // Three bytes of the prefix are not enough to judge.
        #expect(try Envelope.frame(from: prefix.prefix(3)) == nil)
        // Exactly the limit is fine: wait for the body.
        let atLimit = UInt32(limit)
        #expect(try Envelope.frame(from: [UInt8(atLimit >> 24), UInt8(atLimit >> 16 & 0xFF), 0, 0]) == nil)
    }

    @Test("a frame body over the limit is refused when encoding; the limit itself passes")
    func frameEncodeLimit() throws {
        let limit = WireLimits.frameBytesMax
        let largest = Envelope(tag: .certificate, body: [UInt8](repeating: 0, count: limit - 2))
        let bytes = try largest.frame()
        #expect(bytes.count == limit + 4)
        let decoded = try #require(try Envelope.frame(from: bytes))
        #expect(decoded.consumed == bytes.count)
        #expect(decoded.envelope.body.count == limit - 2)

        let tooLarge = Envelope(tag: .certificate, body: [UInt8](repeating: 0, count: limit - 1))
        #expect(expectWireError { _ = try tooLarge.frame() }
            == .limitExceeded(field: "frame", value: UInt64(limit + 1), limit: limit))
    }

    @Test("a zero-length frame is a typed error, not a trap")
    func emptyFrame() {
        #expect(isTruncation(expectWireError { _ = try Envelope.frame(from: [0, 0, 0, 0]) }))
    }
}
