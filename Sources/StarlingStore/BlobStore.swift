import StarlingCrypto

/// Content-addressed files: models and updates, named by their BLAKE2b hash.
///
///     blobs/ab/abcdef0123...   (two-character fan-out keeps directories small)
///
/// A blob is written to a temporary name, fsynced and renamed, so a reader never sees half a blob
/// and a crash leaves either nothing or the whole thing. Reads verify the hash: a corrupted file is
/// reported, never served.
public struct BlobStore: Sendable {
    public let directory: String

    public init(directory: String) throws {
        self.directory = directory
        try POSIXFile.makeDirectories(directory)
    }

    public func path(of hash: ContentHash) -> String {
        let hex = hash.hex
        return "\(directory)/\(hex.prefix(2))/\(hex)"
    }

    /// Stores `bytes` and returns their hash; storing the same content twice is a no-op.
    @discardableResult
    public func put(_ bytes: [UInt8]) throws -> ContentHash {
        guard bytes.count <= StoreLimits.blobBytesMax else {
            throw StoreError("blob", "is \(bytes.count) bytes, over the limit of \(StoreLimits.blobBytesMax)")
        }
        let hash = ContentHash.of(bytes)
        let target = path(of: hash)
        if POSIXFile.exists(target) { return hash }
        try POSIXFile.makeDirectories(POSIXFile.parentDirectory(of: target))
        do {
            try POSIXFile.writeAtomically(bytes, to: target, mode: 0o644, replace: false)
        } catch where POSIXFile.exists(target) {
            // Another writer stored the same content first; content addressing makes that fine.
        }
        return hash
    }

    /// The blob's bytes, verified against its hash; nil when absent.
    public func get(_ hash: ContentHash) throws -> [UInt8]? {
        let target = path(of: hash)
        guard POSIXFile.exists(target) else { return nil }
        let bytes = try POSIXFile.read(target, limit: StoreLimits.blobBytesMax)
        guard ContentHash.of(bytes) == hash else {
            throw StoreError(target, "content does not match its hash (corrupted on disk)")
        }
        return bytes
    }

    public func contains(_ hash: ContentHash) -> Bool { POSIXFile.exists(path(of: hash)) }

    public func remove(_ hash: ContentHash) throws { try POSIXFile.remove(path(of: hash)) }
}
