import Foundation
import StarlingBlobs
import StarlingCrypto
import StarlingMembership
import StarlingPeer
@testable import StarlingRuntime
import StarlingTrust
import Testing

/// A peer with a blob store: a runtime (fake machine) on loopback with `blobs` settings.
struct BlobPeer {
    let runtime: PeerRuntime<FakeMachine>
    let identity: SigningKey
    let directory: String

    var blobs: BlobService { runtime.blobs! }
    var node: NodeID { NodeID(identity.publicKey) }
    var source: BlobService.Source { BlobService.Source(node: node, address: runtime.boundAddress!) }
    var counters: RuntimeCounters { runtime.counters }

    static func start(on loop: EventLoop, seed: UInt8, authorized: @escaping (NodeID) -> Bool = { _ in true }) throws -> BlobPeer {
        let identity = try SigningKey(seed: Array(repeating: seed, count: 32))
        let directory = temporaryDirectory()
        let runtime = PeerRuntime(
            machine: FakeMachine(script: Script()), loop: loop,
            configuration: RuntimeConfiguration(
                listen: PeerAddress(host: "127.0.0.1", port: 0),
                blobs: BlobSettings(directory: "\(directory)/blobs", identity: identity)),
            logger: quietLogger)
        runtime.isAuthorizedForBlobs = authorized
        try runtime.start()
        return BlobPeer(runtime: runtime, identity: identity, directory: directory)
    }
}

/// Collects one fetch's result.
final class FetchResult {
    var result: Result<String, BlobFetchError>?
    var isDone: Bool { result != nil }
    var path: String? { if case let .success(path) = result { path } else { nil } }
}

@Suite(.serialized) struct BlobServiceTests {
    static func blob(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
        var random = DeterministicRandom(seed: seed)
        var bytes = [UInt8](repeating: 0, count: count + 8)
        bytes.withUnsafeMutableBytes { buffer in
            for offset in stride(from: 0, to: count, by: 8) { buffer.storeBytes(of: random.next(), toByteOffset: offset, as: UInt64.self) }
        }
        bytes.removeLast(8)
        return bytes
    }

    static let size = 5 * 1024 * 1024 + 12_345  // 21 chunks of 256 KiB, the last one short

    func fetch(_ peer: BlobPeer, _ id: ContentHash, from sources: [BlobPeer], on loop: EventLoop) -> FetchResult {
        let result = FetchResult()
        peer.blobs.fetch(id, sources: sources.map(\.source)) { result.result = $0 }
        _ = loop.run(until: { result.isDone }, timeout: patience)
        return result
    }

    @Test func aBlobFetchedFromOneSourceIsIdenticalAndItsSecondFetcherTakesChunksFromTheFirst() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        let a = try BlobPeer.start(on: loop, seed: 1)
        let b = try BlobPeer.start(on: loop, seed: 2)
        let c = try BlobPeer.start(on: loop, seed: 3)
        let data = Self.blob(Self.size)
        let id = try a.blobs.importBytes(data)
        #expect(a.blobs.holds(id))

        let first = fetch(b, id, from: [a], on: loop)
        let path = try #require(first.path, "\(String(describing: first.result))")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(data))
        #expect(try b.blobs.read(id) == data)
        #expect(a.blobs.bytesServed == UInt64(Self.size))
        #expect(b.blobs.bytesFetched == UInt64(Self.size))

        // C knows A (the first source) and B: every chunk comes from B, none from A.
        let second = fetch(c, id, from: [a, b], on: loop)
        #expect(second.path != nil, "\(String(describing: second.result))")
        #expect(try c.blobs.read(id) == data)
        #expect(b.blobs.bytesServed == UInt64(Self.size))
        #expect(a.blobs.bytesServed == UInt64(Self.size), "A served nothing more")
        #expect(c.counters["blobs.fetch.chunks"] == UInt64(try BlobManifest(of: data).chunkCount))
    }

    @Test func importingAFileAndItsBytesGiveOneID() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        let a = try BlobPeer.start(on: loop, seed: 1)
        let data = Self.blob(3 * 1024 * 1024 + 5, seed: 9)
        let file = "\(a.directory)/model.safetensors"
        try Data(data).write(to: URL(fileURLWithPath: file))
        let id = try a.blobs.importFile(at: file)
        #expect(try a.blobs.importBytes(data) == id)
        #expect(try a.blobs.importFile(at: file) == id)
        #expect(a.counters["blobs.imported"] == 1)
        #expect(try BlobManifest(of: data).id == id)
        let stored = try #require(a.blobs.filePath(of: id))
        #expect(try Data(contentsOf: URL(fileURLWithPath: stored)) == Data(data))
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(a.directory)/blobs/tmp").isEmpty)
        // Already held: completes on the next turn, not inside the call.
        let result = FetchResult()
        a.blobs.fetch(id, sources: []) { result.result = $0 }
        #expect(!result.isDone)
        #expect(loop.run(until: { result.isDone }, timeout: patience))
        #expect(result.path == stored)
        try a.blobs.remove(id)
        #expect(!a.blobs.holds(id))
        #expect(a.blobs.filePath(of: id) == nil)
    }

    @Test func aSourceThatStopsMidTransferIsReplacedByTheOther() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        let a = try BlobPeer.start(on: loop, seed: 1)
        let b = try BlobPeer.start(on: loop, seed: 2)
        let c = try BlobPeer.start(on: loop, seed: 3)
        let data = Self.blob(12 * 1024 * 1024, seed: 2)
        let id = try a.blobs.importBytes(data)
        #expect(try b.blobs.importBytes(data) == id)
        // B stops right after serving its second chunk.
        let stopper = try LoopTimer(loop: loop)
        defer { stopper.close() }
        var served = 0
        b.blobs.servingFault = { _, _ in
            served += 1
            if served == 2 { stopper.start(after: .zero) { b.runtime.stop() } }
        }
        let result = fetch(c, id, from: [a, b], on: loop)
        #expect(result.path != nil, "\(String(describing: result.result))")
        #expect(try c.blobs.read(id) == data)
        #expect(b.runtime.stopReason == .stopped)
        #expect(b.blobs.bytesServed >= UInt64(2 * BlobLimits.chunkBytes(forBlobOf: UInt64(data.count))))
        #expect(a.blobs.bytesServed > 0)
        #expect(a.blobs.bytesServed + b.blobs.bytesServed >= UInt64(data.count))
        #expect(c.counters["blobs.fetch.failed_requests"] > 0)
    }

    @Test func corruptChunksAreCountedAndFetchedElsewhere() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        let a = try BlobPeer.start(on: loop, seed: 1)
        let b = try BlobPeer.start(on: loop, seed: 2)
        let c = try BlobPeer.start(on: loop, seed: 3)
        let data = Self.blob(Self.size, seed: 3)
        let id = try a.blobs.importBytes(data)
        #expect(try b.blobs.importBytes(data) == id)
        b.blobs.servingFault = { _, bytes in bytes[bytes.count / 2] ^= 0xFF }
        let result = fetch(c, id, from: [a, b], on: loop)
        #expect(result.path != nil, "\(String(describing: result.result))")
        #expect(try c.blobs.read(id) == data)
        #expect(c.counters["blobs.fetch.corrupt"] >= 1)
        #expect(c.blobs.bytesFetched == UInt64(data.count), "only verified bytes count")
        #expect(a.blobs.bytesServed == UInt64(data.count), "every chunk finally came from A")
    }

    @Test func anUnauthorizedOrForgedRequesterIsRefused() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        let outsiderKey = try SigningKey(seed: Array(repeating: 3, count: 32))
        let a = try BlobPeer.start(on: loop, seed: 1, authorized: { $0 != NodeID(outsiderKey.publicKey) })
        let b = try BlobPeer.start(on: loop, seed: 2)
        let outsider = try BlobPeer.start(on: loop, seed: 3)
        let id = try a.blobs.importBytes(Self.blob(100_000))

        let refused = fetch(outsider, id, from: [a], on: loop)
        guard case .failure(.unavailable)? = refused.result else {
            Issue.record("expected the fetch to fail, got \(String(describing: refused.result))")
            return
        }
        #expect(a.counters["blobs.serve.refused.unauthorized"] >= 1)
        #expect(a.blobs.bytesServed == 0)
        #expect(!outsider.blobs.holds(id))

        // A request in B's name sealed by someone else does not open.
        var random = SecureRandom()
        let outsiderKeys = try PairwiseKeys(local: outsiderKey, remote: a.identity.publicKey)
        let forged = BlobSealing.sealRequest(.manifest(id), requester: b.identity.publicKey, keys: outsiderKeys, using: &random)
        var answer: [UInt8]?
        a.blobs.answer(forged.bytes) { answer = $0 }
        #expect(answer == [])
        #expect(a.counters["blobs.serve.refused.unsealed"] == 1)

        // B is a member: it gets the blob.
        #expect(fetch(b, id, from: [a], on: loop).path != nil)
    }

    @Test func concurrentFetchesOfOneBlobShareOneTransfer() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        let a = try BlobPeer.start(on: loop, seed: 1)
        let b = try BlobPeer.start(on: loop, seed: 2)
        let c = try BlobPeer.start(on: loop, seed: 3)
        let data = Self.blob(Self.size, seed: 4)
        let id = try a.blobs.importBytes(data)
        let results = [FetchResult(), FetchResult(), FetchResult()]
        b.blobs.fetch(id, sources: [a.source]) { results[0].result = $0 }
        b.blobs.fetch(id, sources: [a.source]) { results[1].result = $0 }
        b.blobs.fetch(id, sources: [a.source, c.source]) { results[2].result = $0 }
        #expect(loop.run(until: { results.allSatisfy(\.isDone) }, timeout: patience))
        let paths = results.compactMap(\.path)
        #expect(paths.count == 3 && Set(paths).count == 1)
        #expect(a.blobs.bytesServed + c.blobs.bytesServed == UInt64(data.count), "one transfer")
        #expect(b.counters["blobs.fetch.started"] == 1)
        #expect(b.counters["blobs.fetch.shared"] == 2)
    }

    @Test func aFailedFetchResumesWithTheMissingChunksOnly() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        let a = try BlobPeer.start(on: loop, seed: 1)
        let b = try BlobPeer.start(on: loop, seed: 2)
        let c = try BlobPeer.start(on: loop, seed: 3)
        let data = Self.blob(Self.size, seed: 5)
        let id = try a.blobs.importBytes(data)
        #expect(try c.blobs.importBytes(data) == id)
        // A serves three chunks, then only corrupt ones: B's fetch from A alone fails.
        var served = 0
        a.blobs.servingFault = { _, bytes in
            served += 1
            if served > 3 { bytes[0] ^= 1 }
        }
        let failed = fetch(b, id, from: [a], on: loop)
        guard case .failure(.unavailable)? = failed.result else {
            Issue.record("expected a failure, got \(String(describing: failed.result))")
            return
        }
        let kept = b.blobs.bytesFetched
        #expect(kept == UInt64(3 * BlobLimits.chunkBytes(forBlobOf: UInt64(data.count))))
        // Resumed from C: only what is missing travels.
        let resumed = fetch(b, id, from: [c], on: loop)
        #expect(resumed.path != nil, "\(String(describing: resumed.result))")
        #expect(try b.blobs.read(id) == data)
        #expect(c.blobs.bytesServed == UInt64(data.count) - kept)
        #expect(b.counters["blobs.fetch.resumed"] == 1)
    }

    @Test func aPeerStillFetchingServesTheChunksItHasVerified() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        let a = try BlobPeer.start(on: loop, seed: 1)
        let b = try BlobPeer.start(on: loop, seed: 2)
        let c = try BlobPeer.start(on: loop, seed: 3)
        let data = Self.blob(16 * 1024 * 1024, seed: 6)
        let id = try a.blobs.importBytes(data)
        let result = FetchResult()
        b.blobs.fetch(id, sources: [a.source]) { result.result = $0 }
        #expect(loop.run(until: { b.blobs.bytesFetched > 0 }, timeout: patience))
        let partial = try #require(b.blobs.fetches[id]?.partial, "B's fetch is still running")
        let index = try #require(partial.held.firstIndex(of: true))
        let missing = try #require(partial.held.firstIndex(of: false))

        var random = SecureRandom()
        let keys = try PairwiseKeys(local: c.identity, remote: b.identity.publicKey)
        func ask(_ request: BlobRequest) throws -> BlobResponse {
            let sealed = BlobSealing.sealRequest(request, requester: c.identity.publicKey, keys: keys, using: &random)
            var answer: [UInt8] = []
            b.blobs.answer(sealed.bytes) { answer = $0 }
            return try BlobSealing.openResponse(answer, to: request, requestNonce: sealed.nonce, keys: keys)
        }
        let manifest = try BlobManifest(of: data)
        #expect(try ask(.manifest(id)) == .manifest(manifest.wireBytes))
        let range = manifest.range(ofChunk: index)
        #expect(try ask(.chunk(id, index: UInt32(index))) == .chunk(Array(data[Int(range.offset)..<(Int(range.offset) + range.count)])))
        #expect(try ask(.chunk(id, index: UInt32(missing))) == .notHeld)
        #expect(try ask(.chunk(ContentHash.of([1]), index: 0)) == .notHeld)
        #expect(loop.run(until: { result.isDone }, timeout: patience))
        #expect(result.path != nil)
    }

    @Test func participantsFetchingTogetherGetIdenticalCopies() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        let a = try BlobPeer.start(on: loop, seed: 1)
        let b = try BlobPeer.start(on: loop, seed: 2)
        let c = try BlobPeer.start(on: loop, seed: 3)
        let data = Self.blob(Self.size, seed: 7)
        let id = try a.blobs.importBytes(data)
        let results = [FetchResult(), FetchResult()]
        b.blobs.fetch(id, sources: [a.source, c.source]) { results[0].result = $0 }
        c.blobs.fetch(id, sources: [a.source, b.source]) { results[1].result = $0 }
        #expect(loop.run(until: { results.allSatisfy(\.isDone) }, timeout: patience))
        #expect(results.allSatisfy { $0.path != nil }, "\(results.map { String(describing: $0.result) })")
        #expect(try b.blobs.read(id) == data)
        #expect(try c.blobs.read(id) == data)
        #expect(b.blobs.bytesFetched == UInt64(data.count) && c.blobs.bytesFetched == UInt64(data.count))
        // Whatever B and C served each other, A did not have to send everything twice.
        #expect(a.blobs.bytesServed + b.blobs.bytesServed + c.blobs.bytesServed == UInt64(2 * data.count))
    }
}
