/// Every size limit of the wire format, in one place.
///
/// Datagrams stay under a typical path MTU (1280 bytes for IPv6 minus headers) so they are never
/// fragmented; TCP frames carry larger things (anti-entropy digests, blob chunks) but are bounded so
/// a hostile peer cannot make us allocate without limit.
public enum WireLimits {
    /// Largest UDP payload we send or accept.
    public static let datagramBytesMax = 1200
    /// Largest TCP frame body (after its 4-byte length prefix).
    public static let frameBytesMax = 4 * 1024 * 1024
    /// Largest length-prefixed byte field inside a message.
    public static let bytesFieldMax = frameBytesMax
    /// Largest text field (names, tag keys and values, reasons).
    public static let stringBytesMax = 1024
    /// Largest element count of a list inside a message.
    public static let listCountMax = 65_536
}
