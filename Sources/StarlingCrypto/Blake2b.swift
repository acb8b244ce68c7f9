import CSodium

/// A 32-byte BLAKE2b content hash: names blobs, keys the verification cache, checks key files.
public struct ContentHash: Hashable, Sendable, Comparable, CustomStringConvertible {
    public static let byteCount = 32
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) throws {
        guard bytes.count == Self.byteCount else {
            throw CryptoError.wrongLength(what: "content hash", expected: Self.byteCount, actual: bytes.count)
        }
        self.bytes = bytes
    }

    /// Hash of `data`, optionally keyed (a keyed hash is a MAC).
    public static func of<C: Collection>(_ data: C) -> ContentHash where C.Element == UInt8 {
        let hasher = Blake2b()
        hasher.update(data)
        return hasher.finalize()
    }

    public var hex: String { Hex.encode(bytes) }

    /// A number in [0, 1) from the hash: its first 8 bytes (little-endian), top 53 bits, so every
    /// double of that grid is equally likely. Seeded draws that every peer makes alike use it.
    public var fraction: Double {
        var word: UInt64 = 0
        for index in 0..<8 { word |= UInt64(bytes[index]) << (8 * UInt64(index)) }
        return Double(word >> 11) * 0x1p-53
    }
    public var description: String { hex }

    public static func < (lhs: ContentHash, rhs: ContentHash) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }
}

/// Streaming BLAKE2b-256, for data that arrives in chunks (blobs) or is too large to hold twice.
///
/// libsodium's state must be 64-byte aligned, which Swift cannot express for an imported struct, so
/// the state lives in its own aligned allocation, owned by a class (one owner, freed once by
/// `deinit`). A `~Copyable` struct with a `deinit` and a `consuming finalize()` was tried first:
/// Swift 6.3.1's optimizer freed its state twice in release builds of client modules (heap
/// corruption in simulations; the -Osize workaround once kept on StarlingMembership).
public final class Blake2b {
    private let state: OpaquePointer
    private var finished = false

    public init() {
        Sodium.ensureInitialized()
        let raw = UnsafeMutableRawPointer.allocate(byteCount: crypto_generichash_statebytes(), alignment: 64)
        state = OpaquePointer(raw)
        crypto_generichash_init(state, nil, 0, ContentHash.byteCount)
    }

    deinit { UnsafeMutableRawPointer(state).deallocate() }

    public func update<C: Collection>(_ data: C) where C.Element == UInt8 {
        precondition(!finished, "Blake2b.update after finalize")
        let done = data.withContiguousStorageIfAvailable { buffer in
            crypto_generichash_update(state, buffer.baseAddress, UInt64(buffer.count))
        }
        if done == nil {
            let copy = Array(data)
            crypto_generichash_update(state, copy, UInt64(copy.count))
        }
    }

    /// The hash of everything given to `update`; call once.
    public func finalize() -> ContentHash {
        precondition(!finished, "Blake2b.finalize called twice")
        finished = true
        var out = [UInt8](repeating: 0, count: ContentHash.byteCount)
        crypto_generichash_final(state, &out, out.count)
        return try! ContentHash(bytes: out)
    }
}
