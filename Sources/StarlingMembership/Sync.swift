import StarlingTrust
import StarlingWire

/// Anti-entropy over a reliable stream: the requester sends a digest of what it knows; the responder
/// answers with the claims that are newer on its side and the subjects it wants; the requester then
/// pushes those. Only differences travel.
public struct SyncDigestEntry: Hashable, Sendable, WireCodable {
    public let node: NodeID
    public let incarnation: UInt64
    /// MemberState raw value, or `revokedRank` when the node is revoked.
    public let rank: UInt8

    public static let revokedRank: UInt8 = 4

    public init(node: NodeID, incarnation: UInt64, rank: UInt8) {
        self.node = node
        self.incarnation = incarnation
        self.rank = rank
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(node)
        writer.writeVarint(incarnation)
        writer.write(rank)
    }

    public init(from reader: inout WireReader) throws {
        node = try reader.read()
        incarnation = try reader.readVarint()
        rank = try reader.readUInt8()
        guard rank <= Self.revokedRank else { throw WireError.invalidValue(field: "digest state", value: UInt64(rank)) }
    }

    /// Whether (incarnation, rank) is newer than `other`'s.
    func isNewer(than other: SyncDigestEntry) -> Bool {
        incarnation != other.incarnation ? incarnation > other.incarnation : rank > other.rank
    }
}

public struct SyncRequest: Hashable, Sendable, WireCodable {
    /// The requester's own alive claim, so a responder learns it even on first contact.
    public let sender: SignedClaim
    public let digest: [SyncDigestEntry]

    public init(sender: SignedClaim, digest: [SyncDigestEntry]) {
        self.sender = sender
        self.digest = digest
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(sender)
        writer.writeList(digest)
    }

    public init(from reader: inout WireReader) throws {
        sender = try reader.read()
        digest = try reader.readList(field: "digest", limit: SyncLimits.digestEntriesMax)
    }
}

/// Claims and revocations, for responses and pushes.
public struct SyncClaims: Hashable, Sendable, WireCodable {
    public let claims: [SignedClaim]
    public let revocations: [Revocation]
    /// Subjects the sender wants pushed back (responses only; empty in pushes).
    public let wanted: [NodeID]

    public init(claims: [SignedClaim], revocations: [Revocation], wanted: [NodeID] = []) {
        self.claims = claims
        self.revocations = revocations
        self.wanted = wanted
    }

    public func encode(to writer: inout WireWriter) {
        writer.writeList(claims)
        writer.writeList(revocations)
        writer.writeList(wanted)
    }

    public init(from reader: inout WireReader) throws {
        claims = try reader.readList(field: "claims", limit: SyncLimits.claimsMax)
        revocations = try reader.readList(field: "revocations", limit: SyncLimits.claimsMax)
        wanted = try reader.readList(field: "wanted", limit: SyncLimits.digestEntriesMax)
    }
}


public enum SyncLimits {
    public static let digestEntriesMax = 65_536
    public static let claimsMax = 131_072
    /// Responses stop adding claims this far below the frame limit.
    public static let frameHeadroomBytes = 4_096
}
