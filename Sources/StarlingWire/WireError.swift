/// Everything that can be wrong with bytes that claim to be a Starling encoding.
///
/// Decoding never traps: every malformed, truncated, oversized or unknown input ends up as one of
/// these, so a peer can count the drop, log the reason and carry on.
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The input ended before `needed` more bytes could be read at `offset`.
    case truncated(offset: Int, needed: Int)
    /// A varint used more bytes than necessary (non-canonical) or overflowed 64 bits.
    case nonCanonicalVarint(offset: Int)
    case varintOverflow(offset: Int)
    /// A length or count exceeded the named limit.
    case limitExceeded(field: String, value: UInt64, limit: Int)
    /// Bytes that should be UTF-8 text were not.
    case invalidUTF8(field: String)
    /// A boolean, enum or flag field held a value outside its domain.
    case invalidValue(field: String, value: UInt64)
    /// Bytes were left over after a complete value: the encoding would not be canonical.
    case trailingBytes(count: Int)
    /// The protocol version is outside what this build speaks.
    case unsupportedVersion(UInt8, supported: ClosedRange<UInt8>)
    /// The message tag is not one this build knows.
    case unknownTag(UInt64)
    /// A magic prefix did not match (wrong kind of file or not Starling data at all).
    case badMagic
    /// A field's value is well-formed but breaks a rule of the format (a sorted list out of order, ...).
    case invalidField(String)

    public var description: String {
        switch self {
        case let .truncated(offset, needed):
            return "truncated: needed \(needed) more byte(s) at offset \(offset)"
        case let .nonCanonicalVarint(offset):
            return "non-canonical varint at offset \(offset)"
        case let .varintOverflow(offset):
            return "varint overflows 64 bits at offset \(offset)"
        case let .limitExceeded(field, value, limit):
            return "\(field) is \(value), over the limit of \(limit)"
        case let .invalidUTF8(field):
            return "\(field) is not valid UTF-8"
        case let .invalidValue(field, value):
            return "\(field) has invalid value \(value)"
        case let .trailingBytes(count):
            return "\(count) unexpected trailing byte(s)"
        case let .unsupportedVersion(version, supported):
            return "protocol version \(version) is not supported (this build speaks \(supported.lowerBound)...\(supported.upperBound))"
        case let .unknownTag(tag):
            return "unknown message tag \(tag)"
        case .badMagic:
            return "bad magic: not a Starling encoding of the expected kind"
        case let .invalidField(reason):
            return reason
        }
    }
}
