import StarlingCrypto
import StarlingWire

/// The on-disk form of every key, certificate, revocation and keyring file.
///
///     magic "STARLING" (8) | kind (u8) | format version (u8) | payload | BLAKE2b-256 of all before (32)?
///
/// Certificates and revocations carry the authority's signature, which protects every byte that
/// matters; all other kinds end with a checksum so that any altered byte is detected (a flipped bit
/// in a public key would otherwise still be a valid, different key). Decoding is strict: one
/// encoding per value, nothing after the end.
public enum TrustDocument: Sendable {
    case identity(SigningKey)
    case authoritySecret(SigningKey)
    case authorityPublic(PublicKey)
    case certificate(Certificate)
    case revocation(Revocation)
    case keyring(Keyring)

    public enum Kind: UInt8, CaseIterable, Sendable, CustomStringConvertible {
        case identity = 1, authoritySecret = 2, authorityPublic = 3, certificate = 4, revocation = 5, keyring = 6

        public var description: String {
            switch self {
            case .identity: return "a node identity (secret key)"
            case .authoritySecret: return "an authority secret key"
            case .authorityPublic: return "an authority public key"
            case .certificate: return "a certificate"
            case .revocation: return "a revocation"
            case .keyring: return "a gossip keyring"
            }
        }

        /// Files holding secrets must not be readable by anyone but their owner.
        public var isSecret: Bool { self == .identity || self == .authoritySecret || self == .keyring }
        var hasChecksum: Bool { self != .certificate && self != .revocation }
    }

    public static let magic = Array("STARLING".utf8)
    public static let formatVersion: UInt8 = 1

    public var kind: Kind {
        switch self {
        case .identity: return .identity
        case .authoritySecret: return .authoritySecret
        case .authorityPublic: return .authorityPublic
        case .certificate: return .certificate
        case .revocation: return .revocation
        case .keyring: return .keyring
        }
    }

    public func encoded() -> [UInt8] {
        var writer = WireWriter(capacity: 256)
        writer.writeFixed(Self.magic)
        writer.write(kind.rawValue)
        writer.write(Self.formatVersion)
        switch self {
        case let .identity(key), let .authoritySecret(key):
            writer.writeFixed(key.seed.copiedBytes)
            writer.write(key.publicKey)
        case let .authorityPublic(key):
            writer.write(key)
        case let .certificate(certificate):
            writer.write(certificate)
        case let .revocation(revocation):
            writer.write(revocation)
        case let .keyring(keyring):
            writer.writeVarint(keyring.keys.count)
            for key in keyring.keys { writer.writeFixed(key.secret.copiedBytes) }
            writer.writeVarint(keyring.primaryIndex.map { $0 + 1 } ?? 0)
        }
        if kind.hasChecksum { writer.writeFixed(ContentHash.of(writer.bytes).bytes) }
        return writer.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws(TrustError) -> TrustDocument {
        do {
            return try decodeThrowingAny(bytes)
        } catch let error as TrustError {
            throw error
        } catch let error as WireError {
            throw .malformed(error)
        } catch {
            throw .malformed(.invalidField("\(error)"))
        }
    }

    /// Decodes and checks that the file is of the expected kind.
    public static func decode(_ bytes: [UInt8], expecting expected: Kind) throws(TrustError) -> TrustDocument {
        // Check the kind before anything else so a wrong file gets the clearest message.
        if bytes.count > magic.count, Array(bytes.prefix(magic.count)) == magic,
           let actual = Kind(rawValue: bytes[magic.count]), actual != expected {
            throw .wrongFileKind(expected: expected.description, actual: actual.description)
        }
        return try decode(bytes)
    }

    private static func decodeThrowingAny(_ bytes: [UInt8]) throws -> TrustDocument {
        var reader = WireReader(bytes)
        guard bytes.count >= magic.count, try reader.readFixed(magic.count) == magic else { throw WireError.badMagic }
        let rawKind = try reader.readUInt8()
        guard let kind = Kind(rawValue: rawKind) else { throw WireError.invalidValue(field: "file kind", value: UInt64(rawKind)) }
        let version = try reader.readUInt8()
        guard version == formatVersion else {
            throw WireError.invalidField("file format version \(version) is not supported (this build reads \(formatVersion))")
        }
        if kind.hasChecksum {
            guard bytes.count >= reader.offset + ContentHash.byteCount else {
                throw WireError.truncated(offset: bytes.count, needed: reader.offset + ContentHash.byteCount - bytes.count)
            }
            let bodyEnd = bytes.count - ContentHash.byteCount
            guard ContentHash.of(bytes[..<bodyEnd]).bytes == Array(bytes[bodyEnd...]) else { throw TrustError.checksumMismatch }
            reader = WireReader(bytes[..<bodyEnd])
            _ = try reader.readFixed(magic.count + 2)
        }
        let document: TrustDocument
        switch kind {
        case .identity, .authoritySecret:
            let key = try SigningKey(seed: reader.readFixed(SigningKey.seedByteCount))
            let stored: PublicKey = try reader.read()
            guard stored == key.publicKey else { throw TrustError.keyMismatch }
            document = kind == .identity ? .identity(key) : .authoritySecret(key)
        case .authorityPublic:
            document = .authorityPublic(try reader.read())
        case .certificate:
            document = .certificate(try reader.read())
        case .revocation:
            document = .revocation(try reader.read())
        case .keyring:
            let count = try reader.readCount(field: "keyring size", limit: Keyring.keyCountMax)
            var keys: [SymmetricKey] = []
            for _ in 0..<count { keys.append(try SymmetricKey(bytes: reader.readFixed(SymmetricKey.byteCount))) }
            let primary = try reader.readCount(field: "keyring primary", limit: count)
            document = .keyring(try Keyring(keys: keys, primaryIndex: primary == 0 ? nil : primary - 1))
        }
        try reader.expectEnd()
        return document
    }
}

extension TrustDocument {
    // Typed accessors for callers that already asked for one kind.
    public var signingKey: SigningKey? {
        switch self {
        case let .identity(key), let .authoritySecret(key): return key
        default: return nil
        }
    }
    public var publicKey: PublicKey? {
        if case let .authorityPublic(key) = self { return key }
        return nil
    }
    public var certificate: Certificate? {
        if case let .certificate(value) = self { return value }
        return nil
    }
    public var revocation: Revocation? {
        if case let .revocation(value) = self { return value }
        return nil
    }
    public var keyring: Keyring? {
        if case let .keyring(value) = self { return value }
        return nil
    }
}
