import StarlingBlobs
import StarlingCrypto
import StarlingMembership
import StarlingPeer
import StarlingTrust
import StarlingWire

/// Models and updates moved between peers (docs/runtime.md, "Blobs"): a content-addressed store
/// under one directory, a server for other peers' manifest and chunk requests, and fetches that
/// take chunks from every peer that holds them. One per runtime, on the loop thread.
///
/// Requests and answers are sealed with the two peers' pairwise keys (`BlobSealing`); a requester
/// whose request does not open, or that `isAuthorized` refuses, gets an empty answer. Nothing
/// holds a whole blob in memory: chunks are read and written at their offsets.
public final class BlobService {
    /// A peer that holds a blob or its chunks: the machine's `BlobSource`.
    public typealias Source = BlobSource

    let loop: EventLoop
    let directory: BlobDirectory
    let identity: SigningKey
    let counters: RuntimeCounters
    let isAuthorized: (NodeID) -> Bool
    let log: (LogLevel, String) -> Void
    let transport: BlobTransport
    var random = SecureRandom()

    /// Pairwise keys by peer (bounded; X25519 per request would cost more than sealing a chunk).
    private var keys: [PublicKey: PairwiseKeys] = [:]
    /// Manifests of complete blobs, for serving.
    private var manifests: [ContentHash: BlobManifest] = [:]
    /// Chunks of those blobs checked against their hash since this process read them first: a
    /// chunk served again (the model, to each participant) is not hashed again. Kept and dropped
    /// with its manifest.
    private var checkedChunks: [ContentHash: Set<Int>] = [:]

    var fetches: [ContentHash: Fetch] = [:]
    var waiting: [ContentHash] = []
    var activeFetches = 0
    private let nextTurn: LoopTimer
    private var deferred: [() -> Void] = []
    private(set) var isClosed = false

    /// Chunk bytes sent to other peers, and received from them (verified).
    public internal(set) var bytesServed: UInt64 = 0
    public internal(set) var bytesFetched: UInt64 = 0

    /// Tests: changes a chunk after it was read and verified, before it is sealed (a peer serving
    /// corrupted data).
    var servingFault: ((_ index: Int, _ bytes: inout [UInt8]) -> Void)?

    public init(loop: EventLoop, directory: String, identity: SigningKey, counters: RuntimeCounters,
                isAuthorized: @escaping (NodeID) -> Bool, log: @escaping (LogLevel, String) -> Void,
                streams: BlobTransport) throws {
        self.loop = loop
        self.directory = try BlobDirectory(root: directory)
        self.identity = identity
        self.counters = counters
        self.isAuthorized = isAuthorized
        self.log = log
        self.transport = streams
        nextTurn = try LoopTimer(loop: loop)
    }

    deinit { nextTurn.close() }

    public var node: NodeID { NodeID(identity.publicKey) }

    /// Fails every fetch with `.stopped` (inside this call: the loop may not turn again) and refuses
    /// further work. The runtime calls it when it stops.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        let all = fetches.values
        fetches.removeAll()
        waiting.removeAll()
        activeFetches = 0
        for fetch in all {
            for waiter in fetch.waiters { waiter(.failure(.stopped)) }
        }
        nextTurn.close()
        deferred.removeAll()
    }

    /// Runs `action` on the next turn of the loop (completions never run inside the call that
    /// caused them).
    func later(_ action: @escaping () -> Void) {
        guard !isClosed else { return }
        deferred.append(action)
        if deferred.count == 1 {
            nextTurn.start(after: .zero) { [unowned self] in
                let actions = self.deferred
                self.deferred.removeAll()
                for action in actions { action() }
            }
        }
    }

    // MARK: Local store

    /// Copies a local file into the store (chunked and hashed, a buffer at a time), returns the blob
    /// id. Importing the same content again gives the same id and copies nothing.
    public func importFile(at path: String) throws -> ContentHash {
        let source = try BlobFile.openForReading(path)
        let temporary = "\(directory.temporaryDirectory)/import-\(UInt64.random(in: 0...UInt64.max, using: &random))"
        var builder = try BlobManifest.Builder(chunkBytes: BlobLimits.chunkBytes(forBlobOf: try source.size))
        do {
            let copy = try BlobFile.openForWriting(temporary, exclusive: true)
            var offset: UInt64 = 0
            while true {
                let bytes = try source.readUpTo(count: BlobLimits.chunkBytes, at: offset)
                if bytes.isEmpty { break }
                do {
                    try builder.append(bytes)
                } catch {
                    throw BlobStoreError(path, "\(error)")
                }
                try copy.write(bytes, at: offset)
                offset += UInt64(bytes.count)
            }
            let manifest = try builder.finish()
            let id = manifest.id
            if directory.isComplete(id) {
                try BlobFile.remove(temporary)
            } else {
                try copy.sync()
                try directory.install(temporary, manifest: manifest, id: id)
                counters.increment("blobs.imported")
            }
            return id
        } catch {
            try? BlobFile.remove(temporary)
            throw error
        }
    }

    public func importBytes(_ bytes: [UInt8]) throws -> ContentHash {
        let manifest = try BlobManifest(of: bytes)
        let id = manifest.id
        if directory.isComplete(id) { return id }
        let temporary = "\(directory.temporaryDirectory)/import-\(UInt64.random(in: 0...UInt64.max, using: &random))"
        do {
            let file = try BlobFile.openForWriting(temporary, exclusive: true)
            try file.write(bytes, at: 0)
            try file.sync()
            try directory.install(temporary, manifest: manifest, id: id)
        } catch {
            try? BlobFile.remove(temporary)
            throw error
        }
        counters.increment("blobs.imported")
        return id
    }

    /// Whether the blob is here, complete and verified.
    public func holds(_ id: ContentHash) -> Bool { directory.isComplete(id) }

    /// The complete blob as one plain file (a worker reads it directly), or nil.
    public func filePath(of id: ContentHash) -> String? { holds(id) ? directory.completePath(id) : nil }

    /// The whole blob in memory, verified chunk by chunk; at most `BlobLimits.readBytesMax`.
    public func read(_ id: ContentHash) throws -> [UInt8] {
        guard holds(id) else { throw BlobStoreError(directory.completePath(id), "no such blob") }
        let manifest = try completeManifest(id)
        guard manifest.byteCount <= UInt64(BlobLimits.readBytesMax) else {
            throw BlobStoreError(directory.completePath(id), "is \(manifest.byteCount) bytes, over the \(BlobLimits.readBytesMax) read in memory; use filePath(of:)")
        }
        let file = try BlobFile.openForReading(directory.completePath(id))
        var bytes = [UInt8]()
        bytes.reserveCapacity(Int(manifest.byteCount))
        for index in 0..<manifest.chunkCount {
            let range = manifest.range(ofChunk: index)
            let chunk = try file.read(count: range.count, at: range.offset)
            guard manifest.verify(chunk: chunk, index: index) else {
                throw BlobStoreError(directory.completePath(id), "chunk \(index) does not match its hash (corrupted on disk)")
            }
            bytes += chunk
        }
        return bytes
    }

    /// Removes a complete blob (retention). A blob being fetched is not touched.
    public func remove(_ id: ContentHash) throws {
        manifests[id] = nil
        checkedChunks[id] = nil
        try directory.removeComplete(id)
        if fetches[id] == nil { try directory.removePartial(id) }
    }

    func completeManifest(_ id: ContentHash) throws -> BlobManifest {
        if let manifest = manifests[id] { return manifest }
        let manifest = try directory.readManifest(directory.completeManifestPath(id), id: id)
        if manifests.count >= BlobLimits.manifestsCached {
            checkedChunks[manifests.keys[manifests.startIndex]] = nil
            manifests.remove(at: manifests.startIndex)
        }
        manifests[id] = manifest
        return manifest
    }

    func pairwiseKeys(with peer: PublicKey) -> PairwiseKeys? {
        if let known = keys[peer] { return known }
        guard let derived = try? PairwiseKeys(local: identity, remote: peer) else { return nil }
        if keys.count >= BlobLimits.pairwiseKeysCached { keys.remove(at: keys.startIndex) }
        keys[peer] = derived
        return derived
    }

    // MARK: Serving

    /// Answers a blob request from another peer (the runtime routes envelope tags 17 and 19
    /// here). `reply` gets the sealed answer, or empty bytes for a refused request.
    public func answer(_ request: [UInt8], reply: @escaping ([UInt8]) -> Void) {
        counters.increment("blobs.serve.requests")
        guard !isClosed else { return reply([]) }
        func refuse(_ reason: String, _ text: String) {
            let counter = "blobs.serve.refused.\(reason)"
            counters.increment(counter)
            // Logged at the 1st, 2nd, 4th, 8th… refusal of each kind: a flood cannot flood the log.
            let count = counters[counter]
            if count & (count - 1) == 0 { log(.warning, "refused a blob request (\(count) so far of this kind): \(text)") }
            reply([])
        }
        guard let received = try? BlobSealing.receive(request) else { return refuse("malformed", "malformed request") }
        let requester = NodeID(received.requester)
        guard isAuthorized(requester) else { return refuse("unauthorized", "\(requester.short) is not a member") }
        guard let keys = pairwiseKeys(with: received.requester) else { return refuse("bad_key", "\(requester.short) has no usable key") }
        guard let opened = try? BlobSealing.open(received, keys: keys) else {
            return refuse("unsealed", "a request in the name of \(requester.short) does not open")
        }
        let response = respond(to: opened)
        reply(BlobSealing.sealResponse(response, to: opened, requestNonce: received.nonce, keys: keys, using: &random))
    }

    private func respond(to request: BlobRequest) -> BlobResponse {
        switch request {
        case let .manifest(id):
            if let manifest = try? servableManifest(id) {
                counters.increment("blobs.serve.manifests")
                return .manifest(manifest.wireBytes)
            }
            counters.increment("blobs.serve.not_held")
            return .notHeld
        case let .chunk(id, index: rawIndex):
            let index = Int(rawIndex)
            guard let manifest = try? servableManifest(id), index < manifest.chunkCount else {
                counters.increment("blobs.serve.not_held")
                return .notHeld
            }
            let count = manifest.range(ofChunk: index).count
            guard transport.queuedWriteBytes + count <= BlobLimits.servesMax * BlobLimits.chunkBytes else {
                counters.increment("blobs.serve.busy")
                return .busy
            }
            let bytes: [UInt8]?
            do {
                bytes = try readServable(id, manifest: manifest, index: index)
            } catch {
                counters.increment("blobs.serve.read_errors")
                log(.error, "cannot serve chunk \(index) of blob \(id.hex.prefix(16)): \(error)")
                return .notHeld
            }
            guard var chunk = bytes else {
                counters.increment("blobs.serve.not_held")
                return .notHeld
            }
            servingFault?(index, &chunk)
            counters.increment("blobs.serve.chunks")
            bytesServed += UInt64(chunk.count)
            counters.increment("blobs.bytes.served", by: UInt64(chunk.count))
            return .chunk(chunk)
        }
    }

    /// The manifest of a blob held complete, or being fetched (partially held).
    private func servableManifest(_ id: ContentHash) throws -> BlobManifest? {
        if holds(id) { return try completeManifest(id) }
        return fetches[id]?.partial?.manifest
    }

    /// A chunk this peer has verified, from the complete file or the partial one; checked again
    /// against its hash when read from disk (once per process for a complete blob), so a file
    /// damaged on disk is not passed on. The fetcher checks every chunk anyway.
    private func readServable(_ id: ContentHash, manifest: BlobManifest, index: Int) throws -> [UInt8]? {
        let chunk: [UInt8]
        let complete = holds(id)
        if complete {
            let range = manifest.range(ofChunk: index)
            chunk = try BlobFile.openForReading(directory.completePath(id)).read(count: range.count, at: range.offset)
            if checkedChunks[id]?.contains(index) == true { return chunk }
        } else if let partial = fetches[id]?.partial, let bytes = try partial.read(chunk: index) {
            chunk = bytes
        } else {
            return nil
        }
        guard manifest.verify(chunk: chunk, index: index) else {
            counters.increment("blobs.serve.corrupt_on_disk")
            log(.error, "chunk \(index) of blob \(id.hex.prefix(16)) is corrupted on disk; not serving it")
            return nil
        }
        if complete, manifests[id] != nil { checkedChunks[id, default: []].insert(index) }
        return chunk
    }
}
