import StarlingBlobs
import StarlingCrypto
import StarlingMembership
import StarlingPeer
@testable import StarlingRuntime
import StarlingTrust
import Testing

/// A transport without sockets: requests go straight to another service's `answer`, and the reply
/// comes back inside the call (the re-entrant path). It can pretend its write queue is full.
final class DirectTransport: BlobTransport {
    var servers: [PeerAddress: BlobService] = [:]
    /// The next this many reads of `queuedWriteBytes` report a full queue.
    var fullFor = 0

    func sendBlobRequest(_ body: [UInt8], to destination: PeerAddress, timeout: Duration,
                         completion: @escaping (Result<[UInt8], ExchangeFailure>) -> Void) {
        guard let server = servers[destination] else { return completion(.failure(.unreachable("no such peer"))) }
        server.answer(body) { completion(.success($0)) }
    }

    var queuedWriteBytes: Int {
        guard fullFor > 0 else { return 0 }
        fullFor -= 1
        return 1 << 40
    }
}

@Suite(.serialized) struct BlobLimitTests {
    static func service(_ seed: UInt8, on loop: EventLoop, transport: DirectTransport, counters: RuntimeCounters = RuntimeCounters()) throws
        -> (BlobService, BlobService.Source) {
        let identity = try SigningKey(seed: Array(repeating: seed, count: 32))
        let service = try BlobService(loop: loop, directory: "\(temporaryDirectory())/blobs", identity: identity, counters: counters,
                                      isAuthorized: { _ in true }, log: { _, _ in }, streams: transport)
        let address = PeerAddress(host: "10.0.0.\(seed)", port: 7946)
        transport.servers[address] = service
        return (service, BlobService.Source(node: NodeID(identity.publicKey), address: address))
    }

    @Test func aBusySourceIsAskedAgainLater() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        let transport = DirectTransport()
        let countersA = RuntimeCounters(), countersB = RuntimeCounters()
        let (a, sourceA) = try Self.service(1, on: loop, transport: transport, counters: countersA)
        let (b, _) = try Self.service(2, on: loop, transport: transport, counters: countersB)
        let data = BlobServiceTests.blob(3 * BlobLimits.chunkBytes + 1, seed: 8)
        let id = try a.importBytes(data)
        transport.fullFor = 3
        var result: Result<String, BlobFetchError>?
        b.fetch(id, sources: [sourceA]) { result = $0 }
        #expect(loop.run(until: { result != nil }, timeout: patience))
        #expect((try? result?.get()) != nil, "\(String(describing: result))")
        #expect(try b.read(id) == data)
        #expect(countersA["blobs.serve.busy"] == 3)
        #expect(countersB["blobs.fetch.busy"] == 3)
        #expect(a.bytesServed == UInt64(data.count))
    }

    @Test func emptyAndTinyBlobsTravelToo() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        let transport = DirectTransport()
        let (a, sourceA) = try Self.service(1, on: loop, transport: transport)
        let (b, _) = try Self.service(2, on: loop, transport: transport)
        for data in [[], [42], BlobServiceTests.blob(BlobLimits.chunkBytes)] as [[UInt8]] {
            let id = try a.importBytes(data)
            var result: Result<String, BlobFetchError>?
            b.fetch(id, sources: [sourceA]) { result = $0 }
            #expect(loop.run(until: { result != nil }, timeout: patience))
            #expect(try b.read(id) == data)
        }
    }

    @Test func fetchesBeyondFetchesMaxWaitTheirTurn() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        let a = try BlobPeer.start(on: loop, seed: 1)
        let b = try BlobPeer.start(on: loop, seed: 2)
        let count = BlobLimits.fetchesMax + 2
        let ids = try (0..<count).map { try a.blobs.importBytes(BlobServiceTests.blob(50_000, seed: UInt64(100 + $0))) }
        let results = ids.map { _ in FetchResult() }
        for (id, result) in zip(ids, results) { b.blobs.fetch(id, sources: [a.source]) { result.result = $0 } }
        #expect(b.blobs.activeFetches == BlobLimits.fetchesMax)
        #expect(b.blobs.waiting.count == 2)
        #expect(loop.run(until: { results.allSatisfy(\.isDone) }, timeout: patience))
        #expect(results.allSatisfy { $0.path != nil })
        #expect(b.blobs.activeFetches == 0 && b.blobs.fetches.isEmpty)
    }

    @Test func callersOnOneFetchAreBounded() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        let a = try BlobPeer.start(on: loop, seed: 1)
        let b = try BlobPeer.start(on: loop, seed: 2)
        let id = try a.blobs.importBytes(BlobServiceTests.blob(10_000))
        let results = (0...BlobLimits.waitersPerFetchMax).map { _ in FetchResult() }
        for result in results { b.blobs.fetch(id, sources: [a.source]) { result.result = $0 } }
        #expect(loop.run(until: { results.allSatisfy(\.isDone) }, timeout: patience))
        #expect(results.filter { $0.path != nil }.count == BlobLimits.waitersPerFetchMax)
        #expect(results.last?.result == .failure(.tooManyFetches))
    }

    @Test func aFetchWithoutUsableSourcesFailsAndStoppingFailsTheRest() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        let a = try BlobPeer.start(on: loop, seed: 1)
        let id = ContentHash.of([1, 2, 3])
        let onlyMyself = FetchResult()
        a.blobs.fetch(id, sources: [a.source]) { onlyMyself.result = $0 }
        #expect(loop.run(until: { onlyMyself.isDone }, timeout: patience))
        #expect(onlyMyself.result == .failure(.noSources))
        // A fetch from a peer that never answers, ended by stopping the runtime.
        let silent = try startRuntime(Script(), on: loop)
        let pending = FetchResult()
        let node = NodeID(try SigningKey(seed: Array(repeating: 9, count: 32)).publicKey)
        a.blobs.fetch(id, sources: [BlobService.Source(node: node, address: silent.boundAddress!)]) { pending.result = $0 }
        loop.run(until: { false }, timeout: .milliseconds(50))
        #expect(!pending.isDone)
        a.runtime.stop()
        #expect(pending.result == .failure(.stopped))
        let late = FetchResult()
        a.blobs.fetch(id, sources: [BlobService.Source(node: node, address: silent.boundAddress!)]) { late.result = $0 }
        #expect(late.result == .failure(.stopped))
    }
}
