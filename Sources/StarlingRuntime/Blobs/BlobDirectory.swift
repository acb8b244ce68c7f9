import StarlingBlobs
import StarlingCrypto
import StarlingWire

/// Where blobs live on disk, all named by blob id (the hash of the manifest):
///
///     DIR/ab/abcd…             a complete blob, as one plain file (a worker reads it as is)
///     DIR/ab/abcd….manifest    its manifest
///     DIR/partial/abcd…        a blob being fetched, chunks written at their offsets
///     DIR/partial/abcd….manifest
///     DIR/partial/abcd….bitmap one byte per chunk: 1 once the chunk is written and verified
///     DIR/tmp/                 imports in progress
///
/// A complete blob appears by rename, after its manifest, so a blob with both files is whole.
struct BlobDirectory {
    let root: String

    init(root: String) throws {
        self.root = root
        try BlobFile.makeDirectories("\(root)/partial")
        try BlobFile.makeDirectories("\(root)/tmp")
    }

    func completePath(_ id: ContentHash) -> String {
        let hex = id.hex
        return "\(root)/\(hex.prefix(2))/\(hex)"
    }

    func completeManifestPath(_ id: ContentHash) -> String { completePath(id) + ".manifest" }
    func partialPath(_ id: ContentHash) -> String { "\(root)/partial/\(id.hex)" }
    func partialManifestPath(_ id: ContentHash) -> String { partialPath(id) + ".manifest" }
    func bitmapPath(_ id: ContentHash) -> String { partialPath(id) + ".bitmap" }
    var temporaryDirectory: String { "\(root)/tmp" }

    func isComplete(_ id: ContentHash) -> Bool {
        BlobFile.exists(completePath(id)) && BlobFile.exists(completeManifestPath(id))
    }

    static let manifestBytesMax = 64 + BlobLimits.chunksMax * ContentHash.byteCount

    /// A manifest file, checked against the id it is filed under.
    func readManifest(_ path: String, id: ContentHash) throws -> BlobManifest {
        let bytes = try BlobFile.readAll(path, limit: Self.manifestBytesMax)
        let manifest: BlobManifest
        do {
            manifest = try BlobManifest(wireBytes: bytes)
        } catch {
            throw BlobStoreError(path, "not a manifest: \(error)")
        }
        guard manifest.id == id else { throw BlobStoreError(path, "is the manifest of another blob") }
        return manifest
    }

    /// Moves a complete, verified file into place under `id` (manifest first, then the data).
    func install(_ file: String, manifest: BlobManifest, id: ContentHash) throws {
        try BlobFile.makeDirectories(BlobFile.parent(of: completePath(id)))
        try BlobFile.writeAtomically(manifest.wireBytes, to: completeManifestPath(id))
        try BlobFile.rename(file, to: completePath(id))
    }

    func removeComplete(_ id: ContentHash) throws {
        try BlobFile.remove(completePath(id))
        try BlobFile.remove(completeManifestPath(id))
    }

    func removePartial(_ id: ContentHash) throws {
        try BlobFile.remove(partialPath(id))
        try BlobFile.remove(bitmapPath(id))
        try BlobFile.remove(partialManifestPath(id))
    }
}

/// A blob being fetched: its manifest, the partial file and the bitmap of verified chunks. Chunks
/// are written at their offsets as they arrive, in any order, and can be served at once.
final class PartialBlob {
    let id: ContentHash
    let manifest: BlobManifest
    private(set) var held: [Bool]
    private let data: BlobFile
    private let bitmap: BlobFile
    private let directory: BlobDirectory

    /// Opens the partial blob of `id`, creating it for `manifest`; chunks marked in an existing
    /// bitmap are verified again (the bitmap is not fsynced, the data may not have reached the disk).
    init(directory: BlobDirectory, id: ContentHash, manifest: BlobManifest) throws {
        precondition(manifest.id == id)
        self.directory = directory
        self.id = id
        self.manifest = manifest
        if !BlobFile.exists(directory.partialManifestPath(id)) {
            try BlobFile.remove(directory.bitmapPath(id))
            try BlobFile.writeAtomically(manifest.wireBytes, to: directory.partialManifestPath(id))
        }
        data = try BlobFile.openForWriting(directory.partialPath(id))
        bitmap = try BlobFile.openForWriting(directory.bitmapPath(id))
        let marks = try bitmap.readUpTo(count: manifest.chunkCount, at: 0)
        held = Array(repeating: false, count: manifest.chunkCount)
        for (index, mark) in marks.enumerated() where mark == 1 {
            let range = manifest.range(ofChunk: index)
            if let bytes = try? data.read(count: range.count, at: range.offset), manifest.verify(chunk: bytes, index: index) {
                held[index] = true
            }
        }
        try bitmap.truncate(to: UInt64(manifest.chunkCount))
        try bitmap.write(held.map { $0 ? 1 : 0 }, at: 0)
    }

    /// The partial blob of `id` left on disk by an earlier fetch, if any.
    static func resume(directory: BlobDirectory, id: ContentHash) -> PartialBlob? {
        guard BlobFile.exists(directory.partialManifestPath(id)),
              let manifest = try? directory.readManifest(directory.partialManifestPath(id), id: id)
        else { return nil }
        return try? PartialBlob(directory: directory, id: id, manifest: manifest)
    }

    var isComplete: Bool { !held.contains(false) }

    /// Writes a verified chunk, then marks it.
    func write(_ bytes: [UInt8], chunk index: Int) throws {
        precondition(manifest.verify(chunk: bytes, index: index), "only verified chunks are written")
        try data.write(bytes, at: manifest.range(ofChunk: index).offset)
        try bitmap.write([1], at: UInt64(index))
        held[index] = true
    }

    func read(chunk index: Int) throws -> [UInt8]? {
        guard held[index] else { return nil }
        let range = manifest.range(ofChunk: index)
        return try data.read(count: range.count, at: range.offset)
    }

    /// Once every chunk is held: makes the data durable and moves it into place.
    func install() throws -> String {
        precondition(isComplete)
        try data.truncate(to: manifest.byteCount)
        try data.sync()
        try directory.install(directory.partialPath(id), manifest: manifest, id: id)
        try BlobFile.remove(directory.bitmapPath(id))
        try BlobFile.remove(directory.partialManifestPath(id))
        return directory.completePath(id)
    }
}
