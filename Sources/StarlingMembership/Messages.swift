import StarlingTrust
import StarlingWire

/// One message inside a membership datagram. A datagram carries a primary message (ping, ack, ...)
/// and as many piggybacked claims as fit.
///
/// Each message is `kind (u8) | length (varint) | body`, so a peer skips kinds it does not know yet
/// (counted) instead of dropping the whole datagram: new kinds can be added in a rolling upgrade.
/// Kinds are append-only, like message tags.
public enum MembershipMessage: Hashable, Sendable, WireEncodable {
    /// "Are you alive?" `target` names who the sender thinks it is talking to, so a ping that reaches
    /// a different node at a reused address is not acked.
    case ping(sequence: UInt32, target: NodeID)
    case ack(sequence: UInt32)
    /// "Please probe `target` for me and forward its ack" (SWIM's indirect probe).
    case pingRequest(sequence: UInt32, target: NodeID, address: PeerAddress)
    /// Lifeguard: "I asked, the target did not answer in time" (tells the requester its own link works).
    case nack(sequence: UInt32)
    case claim(SignedClaim)
    case revocation(Revocation)

    enum Kind: UInt8 { case ping = 1, ack = 2, pingRequest = 3, nack = 4, claim = 5, revocation = 6 }

    var kind: Kind {
        switch self {
        case .ping: return .ping
        case .ack: return .ack
        case .pingRequest: return .pingRequest
        case .nack: return .nack
        case .claim: return .claim
        case .revocation: return .revocation
        }
    }

    func encodeBody(to writer: inout WireWriter) {
        switch self {
        case let .ping(sequence, target):
            writer.write(sequence)
            writer.write(target)
        case let .ack(sequence), let .nack(sequence):
            writer.write(sequence)
        case let .pingRequest(sequence, target, address):
            writer.write(sequence)
            writer.write(target)
            writer.write(address)
        case let .claim(claim):
            writer.write(claim)
        case let .revocation(revocation):
            writer.write(revocation)
        }
    }

    /// Encoded size, kind and length prefix included.
    public var encodedSize: Int {
        var body = WireWriter(capacity: 64)
        encodeBody(to: &body)
        var prefix = WireWriter(capacity: 4)
        prefix.writeVarint(body.bytes.count)
        return 1 + prefix.bytes.count + body.bytes.count
    }

    public func encode(to writer: inout WireWriter) {
        var body = WireWriter(capacity: 64)
        encodeBody(to: &body)
        writer.write(kind.rawValue)
        writer.writeBytes(body.bytes)
    }

    /// Decodes all messages of a payload. Unknown kinds are skipped and counted in `skipped`.
    public static func decodeAll(_ bytes: ArraySlice<UInt8>, skipped: inout Int) throws -> [MembershipMessage] {
        var reader = WireReader(bytes)
        var messages: [MembershipMessage] = []
        while !reader.isAtEnd {
            guard messages.count < MembershipLimits.messagesPerPacketMax else {
                throw WireError.limitExceeded(field: "messages per packet", value: UInt64(messages.count + 1),
                                              limit: MembershipLimits.messagesPerPacketMax)
            }
            let rawKind = try reader.readUInt8()
            let body = try reader.readBytes(field: "message length", limit: WireLimits.datagramBytesMax)
            guard let kind = Kind(rawValue: rawKind) else {
                skipped += 1
                continue
            }
            var inner = WireReader(body)
            let message: MembershipMessage
            switch kind {
            case .ping: message = .ping(sequence: try inner.readUInt32(), target: try inner.read())
            case .ack: message = .ack(sequence: try inner.readUInt32())
            case .nack: message = .nack(sequence: try inner.readUInt32())
            case .pingRequest:
                message = .pingRequest(sequence: try inner.readUInt32(), target: try inner.read(), address: try inner.read())
            case .claim: message = .claim(try inner.read())
            case .revocation: message = .revocation(try inner.read())
            }
            try inner.expectEnd()
            messages.append(message)
        }
        return messages
    }
}

/// Structural limits of membership packets.
public enum MembershipLimits {
    /// More than this many messages in one datagram is not something a peer of ours sends.
    public static let messagesPerPacketMax = 64
}
