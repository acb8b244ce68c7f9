import StarlingCrypto
import StarlingMembership
import StarlingTrust
import StarlingWire

/// Seals and opens membership datagrams:
///
///     [keyring layer, optional]  version | tag=encryptedPacket | XChaCha20-Poly1305(inner datagram)
///     inner datagram             version | tag=membershipPacket | sender (32) | MAC (16) | messages
///
/// The MAC covers version, tag, sender, receiver and messages with the sender→receiver pairwise key,
/// so a datagram cannot be forged, altered, or replayed to a different receiver.
struct PacketCodec {
    static let headerBytes = 2 + PublicKey.byteCount + MessageAuthenticator.tagByteCount
    static let keyringOverheadBytes = 2 + AEAD.overheadByteCount
    static let pairwiseCacheMax = 4_096

    let identity: SigningKey
    let me: NodeID
    let authentication: PacketAuthentication
    var keyring: Keyring?
    private var pairwise: [NodeID: PairwiseKeys] = [:]

    init(identity: SigningKey, authentication: PacketAuthentication, keyring: Keyring?) {
        self.identity = identity
        self.me = NodeID(identity.publicKey)
        self.authentication = authentication
        self.keyring = keyring
    }

    var encrypts: Bool { keyring?.primary != nil }

    /// Room for messages in one datagram.
    func payloadBudget(datagramBytesMax: Int) -> Int {
        datagramBytesMax - Self.headerBytes - (encrypts ? Self.keyringOverheadBytes : 0)
    }

    enum OpenError: Error, Equatable {
        case malformed(String)
        case badMAC
        case unencrypted
        case undecryptable
        case spoofedAddress
    }

    mutating func keys(with remote: NodeID) throws -> PairwiseKeys {
        if let cached = pairwise[remote] { return cached }
        let keys = try PairwiseKeys(local: identity, remote: remote.publicKey)
        // Bounded: clearing is cheap to recover from (one key exchange per active peer).
        if pairwise.count >= Self.pairwiseCacheMax { pairwise.removeAll(keepingCapacity: true) }
        pairwise[remote] = keys
        return keys
    }

    private static func macInput(sender: NodeID, receiver: NodeID, payload: [UInt8]) -> [UInt8] {
        var writer = WireWriter(capacity: payload.count + 72)
        writer.write(ProtocolVersion.current)
        writer.writeVarint(MessageTag.membershipPacket.rawValue)
        writer.write(sender)
        writer.write(receiver)
        writer.writeFixed(payload)
        return writer.bytes
    }

    mutating func seal<R: RandomNumberGenerator>(_ payload: [UInt8], to receiver: NodeID, random: inout R) throws -> [UInt8] {
        var body = WireWriter(capacity: payload.count + Self.headerBytes)
        body.write(me)
        switch authentication {
        case .pairwiseMAC:
            let key = try keys(with: receiver).sending
            body.writeFixed(MessageAuthenticator.tag(Self.macInput(sender: me, receiver: receiver, payload: payload), key: key))
        case .simulatedNetwork:
            body.writeFixed([UInt8](repeating: 0, count: MessageAuthenticator.tagByteCount))
        }
        body.writeFixed(payload)
        let inner = try Envelope(tag: .membershipPacket, body: body.bytes).datagram()
        guard let keyring, encrypts else { return inner }
        let sealed = try keyring.seal(inner, using: &random)
        return try Envelope(tag: .encryptedPacket, body: sealed).datagram()
    }

    /// Opens a datagram: returns the sender and the message bytes, or why it was refused.
    /// `knownAddress` gives a known sender's address (used by `.simulatedNetwork` only).
    mutating func open(_ datagram: [UInt8], from source: PeerAddress,
                       knownAddress: (NodeID) -> PeerAddress?) throws(OpenError) -> (sender: NodeID, payload: ArraySlice<UInt8>) {
        var envelope: Envelope
        do { envelope = try Envelope(datagram: datagram) } catch { throw .malformed("\(error)") }
        if encrypts {
            guard envelope.tag == .encryptedPacket else { throw .unencrypted }
            guard let inner = try? keyring!.open(envelope.body) else { throw .undecryptable }
            do { envelope = try Envelope(datagram: inner) } catch { throw .malformed("\(error)") }
        }
        guard envelope.tag == .membershipPacket else {
            throw envelope.tag == .encryptedPacket ? .undecryptable : .malformed("unexpected \(envelope.tag) datagram")
        }
        let body = envelope.body
        guard body.count >= Self.headerBytes - 2 else { throw .malformed("datagram shorter than its header") }
        let sender: NodeID
        do { sender = try NodeID(wireBytes: body[0..<PublicKey.byteCount]) } catch { throw .malformed("\(error)") }
        let tagEnd = PublicKey.byteCount + MessageAuthenticator.tagByteCount
        let tag = Array(body[PublicKey.byteCount..<tagEnd])
        let payload = body[tagEnd...]
        switch authentication {
        case .pairwiseMAC:
            guard sender != me, let key = try? keys(with: sender).receiving,
                  MessageAuthenticator.isValid(tag, for: Self.macInput(sender: sender, receiver: me, payload: Array(payload)), key: key)
            else { throw .badMAC }
        case .simulatedNetwork:
            if let expected = knownAddress(sender), expected != source { throw .spoofedAddress }
            if sender == me { throw .spoofedAddress }
        }
        return (sender, payload)
    }
}
