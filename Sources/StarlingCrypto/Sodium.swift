import CSodium

/// libsodium must be initialised once before use; every entry point of this module calls
/// `Sodium.ensureInitialized()` (a global `let` is initialised exactly once, thread-safely).
enum Sodium {
    private static let initialized: Bool = sodium_init() >= 0

    static func ensureInitialized() {
        precondition(initialized, "libsodium failed to initialise (sodium_init returned -1)")
    }
}

/// Errors from the crypto layer that input (not a bug) can cause.
public enum CryptoError: Error, Equatable, Sendable, CustomStringConvertible {
    case wrongLength(what: String, expected: Int, actual: Int)
    case invalidEncoding(what: String)
    case invalidKey(what: String)
    case decryptionFailed
    case noKeys

    public var description: String {
        switch self {
        case let .wrongLength(what, expected, actual):
            return "\(what) must be \(expected) bytes, got \(actual)"
        case let .invalidEncoding(what):
            return "\(what) is not correctly encoded"
        case let .invalidKey(what):
            return "\(what) is not a valid key"
        case .decryptionFailed:
            return "decryption failed: wrong key or tampered ciphertext"
        case .noKeys:
            return "the keyring holds no keys"
        }
    }
}
