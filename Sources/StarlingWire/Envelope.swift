/// The header in front of every datagram and frame body: protocol version, then message tag.
///
///     datagram: version(u8) tag(varint) body
///     frame:    length(u32, of what follows) version(u8) tag(varint) body
///
/// Decoding checks the size limit, the version range and that the tag is known, and hands back the
/// body for the tag's own decoder.
public struct Envelope: Equatable, Sendable {
    public var version: UInt8
    public var tag: MessageTag
    public var body: [UInt8]

    public init(version: UInt8 = ProtocolVersion.current, tag: MessageTag, body: [UInt8]) {
        self.version = version
        self.tag = tag
        self.body = body
    }

    public init<Message: WireEncodable>(tag: MessageTag, message: Message) {
        self.init(tag: tag, body: message.wireBytes)
    }

    private func writeHeaderAndBody(to writer: inout WireWriter) {
        writer.write(version)
        writer.writeVarint(tag.rawValue)
        writer.writeFixed(body)
    }

    private static func readHeaderAndBody(_ reader: inout WireReader) throws -> Envelope {
        let version = try reader.readUInt8()
        guard ProtocolVersion.supported.contains(version) else {
            throw WireError.unsupportedVersion(version, supported: ProtocolVersion.supported)
        }
        let rawTag = try reader.readVarint()
        guard let tag = MessageTag(rawValue: rawTag) else { throw WireError.unknownTag(rawTag) }
        let body = try reader.readFixed(reader.remaining)
        return Envelope(version: version, tag: tag, body: body)
    }

    /// Header and body, refused when over `limit` (named `field` in the error).
    private func encoded(limit: Int, field: String) throws -> [UInt8] {
        var writer = WireWriter(capacity: body.count + 8)
        writeHeaderAndBody(to: &writer)
        guard writer.bytes.count <= limit else {
            throw WireError.limitExceeded(field: field, value: UInt64(writer.bytes.count), limit: limit)
        }
        return writer.bytes
    }

    private static func decoded<C: Collection>(_ bytes: C, limit: Int, field: String) throws -> Envelope
    where C.Element == UInt8 {
        guard bytes.count <= limit else {
            throw WireError.limitExceeded(field: field, value: UInt64(bytes.count), limit: limit)
        }
        var reader = WireReader(bytes)
        return try readHeaderAndBody(&reader)
    }

    // MARK: Datagrams

    /// Bytes for one UDP datagram. Fails when they would exceed `WireLimits.datagramBytesMax`.
    public func datagram() throws -> [UInt8] {
        try encoded(limit: WireLimits.datagramBytesMax, field: "datagram")
    }

    public init<C: Collection>(datagram bytes: C) throws where C.Element == UInt8 {
        self = try Self.decoded(bytes, limit: WireLimits.datagramBytesMax, field: "datagram")
    }

    // MARK: Stream messages

    /// Bytes for one message on a stream whose transport frames messages itself (the runtime's
    /// length-prefixed TCP exchanges): header and body, no length prefix, at most
    /// `WireLimits.frameBytesMax`.
    public func streamMessage() throws -> [UInt8] {
        try encoded(limit: WireLimits.frameBytesMax, field: "frame")
    }

    public init<C: Collection>(streamMessage bytes: C) throws where C.Element == UInt8 {
        self = try Self.decoded(bytes, limit: WireLimits.frameBytesMax, field: "frame")
    }

    // MARK: Frames

    /// Bytes for one TCP frame, length prefix included.
    public func frame() throws -> [UInt8] {
        let inner = try encoded(limit: WireLimits.frameBytesMax, field: "frame")
        var writer = WireWriter(capacity: inner.count + 4)
        writer.write(UInt32(inner.count))
        writer.writeFixed(inner)
        return writer.bytes
    }

    /// Reads one frame from the front of a stream buffer.
    ///
    /// Returns nil when the buffer does not yet hold a whole frame (read more and call again), or the
    /// envelope and how many bytes it used. A length over the limit is an error as soon as the
    /// 4-byte prefix has arrived, before any of the body is buffered.
    public static func frame<C: Collection>(from buffer: C) throws -> (envelope: Envelope, consumed: Int)?
    where C.Element == UInt8 {
        var reader = WireReader(buffer.prefix(4))
        guard reader.remaining == 4 else { return nil }
        let length = Int(try reader.readUInt32())
        guard length <= WireLimits.frameBytesMax else {
            throw WireError.limitExceeded(field: "frame", value: UInt64(length), limit: WireLimits.frameBytesMax)
        }
        guard buffer.count >= 4 + length else { return nil }
        var bodyReader = WireReader(buffer.dropFirst(4).prefix(length))
        return (try readHeaderAndBody(&bodyReader), 4 + length)
    }
}
