#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import StarlingTrust

/// Reads and writes key, certificate, revocation and keyring files.
///
/// Secret files are created 0600 and refused when group or others may read them, as ssh does:
/// a key that others could have read is a key that may be known to others.
public enum TrustFiles {
    /// Writes a document; secret kinds get mode 0600, public ones 0644. Never overwrites an existing
    /// file unless `replace` is set, so a typo cannot destroy a key.
    public static func write(_ document: TrustDocument, to path: String, replace: Bool = false) throws {
        let mode: mode_t = document.kind.isSecret ? 0o600 : 0o644
        try POSIXFile.makeDirectories(POSIXFile.parentDirectory(of: path))
        try POSIXFile.writeAtomically(document.encoded(), to: path, mode: mode, replace: replace)
    }

    /// Reads a document of the expected kind. Errors name the file and what is wrong with it.
    public static func read(_ path: String, expecting kind: TrustDocument.Kind) throws -> TrustDocument {
        if kind.isSecret, let mode = try POSIXFile.mode(of: path), mode & 0o077 != 0 {
            throw StoreError(path, "holds \(kind) but is accessible by group or others "
                + "(mode \(String(mode, radix: 8))); run: chmod 600 \(path)")
        }
        let bytes = try POSIXFile.read(path, limit: StoreLimits.trustFileBytesMax)
        do {
            return try TrustDocument.decode(bytes, expecting: kind)
        } catch {
            throw StoreError(path, "\(error)")
        }
    }

    public static func exists(_ path: String) -> Bool { POSIXFile.exists(path) }
}
