import CSodium

/// Secret key material that is wiped from memory when the last reference goes away.
///
/// A class so that copies of a key share one buffer and the wipe happens exactly once; it is
/// immutable after creation, hence Sendable.
public final class SecretBytes: @unchecked Sendable, Equatable {
    private var storage: [UInt8]

    public init(_ bytes: [UInt8]) { storage = bytes }

    deinit {
        let count = storage.count
        storage.withUnsafeMutableBytes { sodium_memzero($0.baseAddress, count) }
    }

    public var count: Int { storage.count }

    /// Read access without copying the secret into a longer-lived array.
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes(body)
    }

    /// A typed pointer to the (never empty) secret, for libsodium calls.
    public func withPointer<R>(_ body: (UnsafePointer<UInt8>) throws -> R) rethrows -> R {
        precondition(!storage.isEmpty, "secret buffers are never empty")
        return try storage.withUnsafeBufferPointer { try body($0.baseAddress!) }
    }

    /// A copy, for code that must write the secret out (key files).
    public var copiedBytes: [UInt8] { storage }

    /// Constant-time comparison.
    public static func == (lhs: SecretBytes, rhs: SecretBytes) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return lhs.withBytes { left in
            rhs.withBytes { right in sodium_memcmp(left.baseAddress, right.baseAddress, left.count) == 0 }
        }
    }
}
