import StarlingCrypto
import StarlingTrust
import StarlingWire

/// A node's own announcement that it is alive: its certificate (so anyone can check that it was
/// admitted), incarnation, address and tags. Signed by the node itself.
public struct AliveClaim: Hashable, Sendable {
    public let certificate: Certificate
    public let incarnation: UInt64
    public let address: PeerAddress
    /// Sorted by key: one canonical encoding.
    public let tags: [Tag]

    public struct Tag: Hashable, Sendable {
        public let key: String
        public let value: String
        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }
    }

    public init(certificate: Certificate, incarnation: UInt64, address: PeerAddress, tags: [String: String]) {
        self.certificate = certificate
        self.incarnation = incarnation
        self.address = address
        self.tags = tags.sorted { $0.key < $1.key }.map { Tag(key: $0.key, value: $0.value) }
    }

    public var node: NodeID { certificate.node }
    public var tagDictionary: [String: String] {
        Dictionary(tags.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
    }
}

/// A statement about a member's state. Who may sign it is part of its meaning:
/// alive and leave only by the member itself, suspect and dead by the accuser.
public enum Claim: Hashable, Sendable {
    case alive(AliveClaim)
    case suspect(node: NodeID, incarnation: UInt64, accuser: NodeID)
    case dead(node: NodeID, incarnation: UInt64, accuser: NodeID)
    case leave(node: NodeID, incarnation: UInt64)

    /// The member the claim is about.
    public var subject: NodeID {
        switch self {
        case let .alive(claim): return claim.node
        case let .suspect(node, _, _), let .dead(node, _, _), let .leave(node, _): return node
        }
    }

    /// The node whose key must have signed the claim.
    public var author: NodeID {
        switch self {
        case let .alive(claim): return claim.node
        case let .suspect(_, _, accuser), let .dead(_, _, accuser): return accuser
        case let .leave(node, _): return node
        }
    }

    public var incarnation: UInt64 {
        switch self {
        case let .alive(claim): return claim.incarnation
        case let .suspect(_, incarnation, _), let .dead(_, incarnation, _), let .leave(_, incarnation): return incarnation
        }
    }

    /// The state the claim asserts.
    public var state: MemberState {
        switch self {
        case .alive: return .alive
        case .suspect: return .suspect
        case .dead: return .dead
        case .leave: return .left
        }
    }

    enum Kind: UInt8 { case alive = 1, suspect = 2, dead = 3, leave = 4 }
}

/// A claim with its author's Ed25519 signature, relayed unchanged from peer to peer.
public struct SignedClaim: Hashable, Sendable, WireCodable {
    public static let signingContext = Array("starling/claim/v1".utf8)

    public let claim: Claim
    public let signature: Signature

    public init(claim: Claim, signature: Signature) {
        self.claim = claim
        self.signature = signature
    }

    public static func sign(_ claim: Claim, with key: SigningKey) -> SignedClaim {
        precondition(key.publicKey == claim.author.publicKey, "a claim must be signed by its author")
        return SignedClaim(claim: claim, signature: key.sign(bytesToSign(claim)))
    }

    /// The bytes a claim's author signs: a domain-separation context, then the claim.
    public static func bytesToSign(_ claim: Claim) -> [UInt8] {
        var writer = WireWriter(capacity: 320)
        writer.writeFixed(signingContext)
        encodeClaim(claim, to: &writer)
        return writer.bytes
    }

    public var signedBytes: [UInt8] { Self.bytesToSign(claim) }

    public func hasValidSignature(cache: SignatureCache) -> Bool {
        cache.isValid(signature, for: signedBytes, by: claim.author.publicKey)
    }

    public func encode(to writer: inout WireWriter) {
        Self.encodeClaim(claim, to: &writer)
        writer.write(signature)
    }

    public init(from reader: inout WireReader) throws {
        claim = try Self.decodeClaim(from: &reader)
        signature = try reader.read()
    }

    static func encodeClaim(_ claim: Claim, to writer: inout WireWriter) {
        switch claim {
        case let .alive(alive):
            writer.write(Claim.Kind.alive.rawValue)
            writer.write(alive.certificate)
            writer.writeVarint(alive.incarnation)
            writer.write(alive.address)
            writer.writeVarint(alive.tags.count)
            for tag in alive.tags {
                writer.writeString(tag.key)
                writer.writeString(tag.value)
            }
        case let .suspect(node, incarnation, accuser):
            writer.write(Claim.Kind.suspect.rawValue)
            writer.write(node)
            writer.writeVarint(incarnation)
            writer.write(accuser)
        case let .dead(node, incarnation, accuser):
            writer.write(Claim.Kind.dead.rawValue)
            writer.write(node)
            writer.writeVarint(incarnation)
            writer.write(accuser)
        case let .leave(node, incarnation):
            writer.write(Claim.Kind.leave.rawValue)
            writer.write(node)
            writer.writeVarint(incarnation)
        }
    }

    static func decodeClaim(from reader: inout WireReader) throws -> Claim {
        let rawKind = try reader.readUInt8()
        guard let kind = Claim.Kind(rawValue: rawKind) else { throw WireError.invalidValue(field: "claim kind", value: UInt64(rawKind)) }
        switch kind {
        case .alive:
            let certificate: Certificate = try reader.read()
            let incarnation = try reader.readVarint()
            let address: PeerAddress = try reader.read()
            let count = try reader.readCount(field: "tag count", limit: ClaimLimits.tagsMax)
            var tags: [String: String] = [:]
            var previousKey: String?
            for _ in 0..<count {
                let key = try reader.readString(field: "tag key", limit: ClaimLimits.tagBytesMax)
                let value = try reader.readString(field: "tag value", limit: ClaimLimits.tagBytesMax)
                if let previousKey, previousKey >= key { throw WireError.invalidField("tags must be sorted by key, without repeats") }
                previousKey = key
                tags[key] = value
            }
            return .alive(AliveClaim(certificate: certificate, incarnation: incarnation, address: address, tags: tags))
        case .suspect:
            return .suspect(node: try reader.read(), incarnation: try reader.readVarint(), accuser: try reader.read())
        case .dead:
            return .dead(node: try reader.read(), incarnation: try reader.readVarint(), accuser: try reader.read())
        case .leave:
            return .leave(node: try reader.read(), incarnation: try reader.readVarint())
        }
    }
}

/// Size limits of claims on the wire (settings may be stricter, never looser).
public enum ClaimLimits {
    public static let tagsMax = 32
    public static let tagBytesMax = 255
}

/// A signed claim shared by reference: member tables hold boxes, so a claim known to many peers in
/// one process (the simulator) is stored once. Immutable.
public final class ClaimBox: @unchecked Sendable {
    public let signed: SignedClaim
    /// The decoded alive claim, when it is one (member tables read it constantly).
    public let alive: AliveClaim?
    /// Its tags as a dictionary, built once.
    public let tags: [String: String]

    public init(_ signed: SignedClaim) {
        self.signed = signed
        if case let .alive(alive) = signed.claim {
            self.alive = alive
            self.tags = alive.tagDictionary
        } else {
            self.alive = nil
            self.tags = [:]
        }
    }
}
