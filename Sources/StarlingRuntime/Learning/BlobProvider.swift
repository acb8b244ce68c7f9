import StarlingCrypto
import StarlingPeer

/// What the task runner needs of the blob store and transfer (`BlobService`): local blobs by
/// hash, and fetching one from peers that hold it or its chunks.
protocol BlobProvider: AnyObject {
    func importBytes(_ bytes: [UInt8]) throws -> ContentHash
    func holds(_ id: ContentHash) -> Bool
    /// The complete blob as one plain file.
    func filePath(of id: ContentHash) -> String?
    func read(_ id: ContentHash) throws -> [UInt8]
    func remove(_ id: ContentHash) throws
    /// Completes on the loop with the local path, or why the blob could not be fetched.
    func fetchBlob(_ id: ContentHash, from sources: [BlobSource], completion: @escaping (Result<String, RuntimeError>) -> Void)
}
