/// The gossip keyring: several installed XChaCha20-Poly1305 keys, one of them primary.
///
/// Peers encrypt with the primary key and decrypt with any installed key, which is what makes
/// rotation possible without downtime (install everywhere, then use everywhere, then remove the
/// old key), as in Serf. Encryption here is confidentiality only: who may speak is decided by
/// certificates and signatures, never by knowing this key.
public struct Keyring: Equatable, Sendable {
    /// Installed keys, oldest first.
    public private(set) var keys: [SymmetricKey]
    public private(set) var primaryIndex: Int?

    public static let keyCountMax = 16

    public enum Error: Swift.Error, Equatable, CustomStringConvertible {
        case alreadyInstalled(fingerprint: String)
        case notInstalled(fingerprint: String)
        case removingPrimary(fingerprint: String)
        case full(limit: Int)

        public var description: String {
            switch self {
            case let .alreadyInstalled(fingerprint): return "key \(fingerprint) is already installed"
            case let .notInstalled(fingerprint): return "key \(fingerprint) is not installed"
            case let .removingPrimary(fingerprint):
                return "key \(fingerprint) is the primary key: make another key primary first"
            case let .full(limit): return "the keyring already holds the maximum of \(limit) keys"
            }
        }
    }

    public init() {
        keys = []
        primaryIndex = nil
    }

    /// Rebuilds a keyring from stored parts; the primary must be one of the keys.
    public init(keys: [SymmetricKey], primaryIndex: Int?) throws {
        guard keys.count <= Self.keyCountMax else { throw Error.full(limit: Self.keyCountMax) }
        if let primaryIndex, !keys.indices.contains(primaryIndex) {
            throw CryptoError.invalidKey(what: "keyring primary index \(primaryIndex)")
        }
        if primaryIndex == nil && !keys.isEmpty {
            throw CryptoError.invalidKey(what: "keyring with keys but no primary")
        }
        for (index, key) in keys.enumerated() where keys[..<index].contains(key) {
            throw Error.alreadyInstalled(fingerprint: key.fingerprint)
        }
        self.keys = keys
        self.primaryIndex = primaryIndex
    }

    public var primary: SymmetricKey? { primaryIndex.map { keys[$0] } }

    /// Adds a key; the first key installed becomes primary.
    public mutating func install(_ key: SymmetricKey) throws {
        guard !keys.contains(key) else { throw Error.alreadyInstalled(fingerprint: key.fingerprint) }
        guard keys.count < Self.keyCountMax else { throw Error.full(limit: Self.keyCountMax) }
        keys.append(key)
        if primaryIndex == nil { primaryIndex = keys.count - 1 }
    }

    public mutating func use(_ key: SymmetricKey) throws {
        guard let index = keys.firstIndex(of: key) else { throw Error.notInstalled(fingerprint: key.fingerprint) }
        primaryIndex = index
    }

    public mutating func remove(_ key: SymmetricKey) throws {
        guard let index = keys.firstIndex(of: key) else { throw Error.notInstalled(fingerprint: key.fingerprint) }
        guard index != primaryIndex else { throw Error.removingPrimary(fingerprint: key.fingerprint) }
        keys.remove(at: index)
        if let primary = primaryIndex, primary > index { primaryIndex = primary - 1 }
    }

    public func seal<R: RandomNumberGenerator>(
        _ plaintext: [UInt8], additionalData: [UInt8] = [], using generator: inout R
    ) throws -> [UInt8] {
        guard let primary else { throw CryptoError.noKeys }
        return AEAD.seal(plaintext, additionalData: additionalData, key: primary, using: &generator)
    }

    /// Tries the primary first (the common case), then the others.
    public func open(_ sealed: [UInt8], additionalData: [UInt8] = []) throws -> [UInt8] {
        guard let primaryIndex else { throw CryptoError.noKeys }
        let order = [primaryIndex] + keys.indices.filter { $0 != primaryIndex }
        for index in order {
            if let plain = try? AEAD.open(sealed, additionalData: additionalData, key: keys[index]) {
                return plain
            }
        }
        throw CryptoError.decryptionFailed
    }
}
