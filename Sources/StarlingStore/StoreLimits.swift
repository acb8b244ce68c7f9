/// Every limit of the on-disk layer, in one place.
public enum StoreLimits {
    /// Key, certificate, revocation and keyring files are small; anything larger is not ours.
    public static let trustFileBytesMax = 64 * 1024
    /// Largest single blob (model or update) written in one piece.
    public static let blobBytesMax = 2 * 1024 * 1024 * 1024
    /// How long a writer waits for SQLite's lock before giving up, in seconds.
    public static let busyTimeoutSeconds: Double = 5
}
