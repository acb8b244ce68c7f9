/// The wire protocol versions this build speaks.
///
/// Every datagram and frame starts with the version it is encoded in. A peer accepts any version in
/// `supported` and sends `current`; raising `current` while keeping the old version in `supported`
/// is how a rolling upgrade works.
public enum ProtocolVersion {
    public static let current: UInt8 = 1
    public static let supported: ClosedRange<UInt8> = 1...1
}
