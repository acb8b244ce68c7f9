/// Every limit of the trust layer, in one place.
public enum TrustLimits {
    /// How far apart two clocks may be before a certificate's window is judged wrong.
    public static let clockSkewSeconds: UInt64 = 300
    /// Longest certificate validity an authority will issue (10 years).
    public static let validityMax: UInt64 = 10 * 366 * 86_400
    /// Node names: 1 to 64 characters of [A-Za-z0-9._-].
    public static let nodeNameBytesMax = 64
    /// Revocation reasons, free text.
    public static let reasonBytesMax = 256
}
