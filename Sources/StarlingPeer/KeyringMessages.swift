import StarlingCrypto
import StarlingMembership
import StarlingTrust
import StarlingWire

/// An admin's keyring change for one member, sent over a stream:
///
///     sender | operation | sealed key | issuedAt | signature
///
/// The key travels sealed with the sender→receiver pairwise key (XChaCha20-Poly1305); the signature
/// (by the sender's identity) covers the receiver too, so a request cannot be replayed to another
/// member, and `issuedAt` bounds replays to the same one (plus a memory of recent requests).
struct KeyringRequest: Hashable, Sendable, WireCodable {
    static let signingContext = Array("starling/keyring/v1".utf8)

    enum Operation: UInt8 { case install = 1, use = 2, remove = 3, list = 4 }

    let sender: NodeID
    let operation: Operation
    let sealedKey: [UInt8]
    let issuedAt: UInt64
    let signature: Signature

    static func bytesToSign(sender: NodeID, receiver: NodeID, operation: Operation, sealedKey: [UInt8], issuedAt: UInt64) -> [UInt8] {
        var writer = WireWriter(capacity: 160)
        writer.writeFixed(signingContext)
        writer.write(sender)
        writer.write(receiver)
        writer.write(operation.rawValue)
        writer.writeBytes(sealedKey)
        writer.writeVarint(issuedAt)
        return writer.bytes
    }

    /// Additional data bound into the sealed key: the same fields, so the ciphertext cannot be moved.
    static func additionalData(sender: NodeID, receiver: NodeID, operation: Operation, issuedAt: UInt64) -> [UInt8] {
        bytesToSign(sender: sender, receiver: receiver, operation: operation, sealedKey: [], issuedAt: issuedAt)
    }

    func encode(to writer: inout WireWriter) {
        writer.write(sender)
        writer.write(operation.rawValue)
        writer.writeBytes(sealedKey)
        writer.writeVarint(issuedAt)
        writer.write(signature)
    }

    init(sender: NodeID, operation: Operation, sealedKey: [UInt8], issuedAt: UInt64, signature: Signature) {
        self.sender = sender
        self.operation = operation
        self.sealedKey = sealedKey
        self.issuedAt = issuedAt
        self.signature = signature
    }

    init(from reader: inout WireReader) throws {
        sender = try reader.read()
        let raw = try reader.readUInt8()
        guard let operation = Operation(rawValue: raw) else { throw WireError.invalidValue(field: "keyring operation", value: UInt64(raw)) }
        self.operation = operation
        sealedKey = try reader.readBytes(field: "sealed key", limit: 128)
        issuedAt = try reader.readVarint()
        signature = try reader.read()
    }
}

/// A member's answer: whether the change applied, why not, and its keyring afterwards.
struct KeyringResponse: Hashable, Sendable, WireCodable {
    let ok: Bool
    let message: String
    let fingerprints: [String]
    let primary: String?

    init(ok: Bool, message: String, keyring: Keyring?) {
        self.ok = ok
        self.message = message
        fingerprints = keyring?.keys.map(\.fingerprint) ?? []
        primary = keyring?.primary?.fingerprint
    }

    func encode(to writer: inout WireWriter) {
        writer.write(ok)
        writer.writeString(message)
        writer.writeVarint(fingerprints.count)
        for fingerprint in fingerprints { writer.writeString(fingerprint) }
        writer.writeOptional(primary.map(WireText.init))
    }

    init(from reader: inout WireReader) throws {
        ok = try reader.readBool(field: "ok")
        message = try reader.readString(field: "message")
        let count = try reader.readCount(field: "fingerprints", limit: Keyring.keyCountMax)
        var fingerprints: [String] = []
        for _ in 0..<count { fingerprints.append(try reader.readString(field: "fingerprint", limit: 64)) }
        self.fingerprints = fingerprints
        primary = try reader.readOptional(WireText.self, field: "primary")?.text
    }
}

/// A string as a wire value (for optionals and lists).
struct WireText: WireCodable {
    let text: String
    init(_ text: String) { self.text = text }
    func encode(to writer: inout WireWriter) { writer.writeString(text) }
    init(from reader: inout WireReader) throws { text = try reader.readString(field: "text") }
}
