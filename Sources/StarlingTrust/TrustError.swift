import StarlingWire

/// Why a key, certificate or revocation was refused. Every case names what is wrong in words an
/// operator can act on.
public enum TrustError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidNodeID(String)
    case unknownRole(String, known: [String])
    case repeatedRole(String)
    case invalidName(String, reason: String)
    case invalidValidity(String)
    case badSignature
    case wrongAuthority(expected: String, actual: String)
    case notYetValid(notBefore: UInt64, now: UInt64)
    case expired(notAfter: UInt64, now: UInt64)
    case revoked(at: UInt64)
    case missingRole(Roles)
    case malformed(WireError)
    case wrongFileKind(expected: String, actual: String)
    case checksumMismatch
    case keyMismatch

    public var description: String {
        switch self {
        case let .invalidNodeID(text):
            return "'\(text)' is not a NodeID (expected 64 hex characters)"
        case let .unknownRole(name, known):
            return "unknown role '\(name)' (known roles: \(known.joined(separator: ", ")))"
        case let .repeatedRole(name):
            return "role '\(name)' is listed twice"
        case let .invalidName(name, reason):
            return "invalid node name '\(name)': \(reason)"
        case let .invalidValidity(reason):
            return "invalid validity: \(reason)"
        case .badSignature:
            return "bad signature: the contents were altered or not signed by this authority"
        case let .wrongAuthority(expected, actual):
            return "issued by authority \(actual), not by the expected authority \(expected)"
        case let .notYetValid(notBefore, now):
            return "not yet valid: valid from \(Timestamp.format(notBefore)), now is \(Timestamp.format(now))"
        case let .expired(notAfter, now):
            return "expired at \(Timestamp.format(notAfter)), now is \(Timestamp.format(now))"
        case let .revoked(at):
            return "revoked at \(Timestamp.format(at))"
        case let .missingRole(roles):
            return "the certificate lacks the role(s) \(roles)"
        case let .malformed(error):
            return "malformed: \(error)"
        case let .wrongFileKind(expected, actual):
            return "this is \(actual), not \(expected)"
        case .checksumMismatch:
            return "checksum mismatch: the file is corrupted or was altered"
        case .keyMismatch:
            return "the stored public key does not match the secret key: the file is corrupted or was altered"
        }
    }
}
