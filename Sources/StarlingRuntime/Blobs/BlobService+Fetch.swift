import StarlingBlobs
import StarlingCrypto
import StarlingMembership
import StarlingPeer
import StarlingTrust

/// One blob being fetched: its sources, its plan, the callers waiting for it and, once the
/// manifest is known, its partial file.
final class Fetch {
    let id: ContentHash
    var sources: [BlobService.Source]
    var plan: BlobFetchPlan
    var waiters: [(Result<String, BlobFetchError>) -> Void]
    var partial: PartialBlob?
    var isPumping = false

    init(id: ContentHash, sources: [BlobService.Source], plan: BlobFetchPlan,
         waiter: @escaping (Result<String, BlobFetchError>) -> Void, partial: PartialBlob?) {
        self.id = id
        self.sources = sources
        self.plan = plan
        waiters = [waiter]
        self.partial = partial
    }
}

extension BlobService {
    /// Fetches a blob from peers that hold it or some of its chunks. `sources[0]` should be a peer
    /// that certainly holds it (it is asked last for each chunk, as the fallback). Concurrent
    /// fetches of one id share one transfer (later callers' new sources are added). The completion
    /// runs on the loop, never inside this call (except `.stopped` once the service is closed), with
    /// the complete file's path or why it failed.
    /// A fetch that fails leaves its verified chunks on disk; the next fetch resumes from them.
    public func fetch(_ id: ContentHash, sources: [Source], completion: @escaping (Result<String, BlobFetchError>) -> Void) {
        guard !isClosed else { return completion(.failure(.stopped)) }  // no loop turn to wait for
        if holds(id) {
            let path = directory.completePath(id)
            return later { completion(.success(path)) }
        }
        let usable = Array(sources.filter { $0.node != node }.reduce(into: [Source]()) { list, source in
            if !list.contains(source) { list.append(source) }
        }.prefix(BlobLimits.sourcesMax))
        if let fetch = fetches[id] {
            guard fetch.waiters.count < BlobLimits.waitersPerFetchMax else {
                counters.increment("blobs.fetch.refused.waiters")
                return later { completion(.failure(.tooManyFetches)) }
            }
            fetch.waiters.append(completion)
            for source in usable where !fetch.sources.contains(source) && fetch.sources.count < BlobLimits.sourcesMax {
                fetch.sources.append(source)
                _ = fetch.plan.addSource()
            }
            counters.increment("blobs.fetch.shared")
            return
        }
        guard !usable.isEmpty else { return later { completion(.failure(.noSources)) } }
        guard fetches.count < BlobLimits.fetchesMax + BlobLimits.fetchesQueuedMax else {
            counters.increment("blobs.fetch.refused.too_many")
            return later { completion(.failure(.tooManyFetches)) }
        }
        let partial = PartialBlob.resume(directory: directory, id: id)
        let plan = BlobFetchPlan(id: id, sourceCount: usable.count, localNode: identity.publicKey.bytes,
                                 manifest: partial?.manifest, held: partial?.held)
        if let partial, partial.isComplete == false {
            counters.increment("blobs.fetch.resumed")
            log(.info, "resuming blob \(id.hex.prefix(16)): \(partial.held.filter { $0 }.count) of \(partial.manifest.chunkCount) chunks already here")
        }
        let fetch = Fetch(id: id, sources: usable, plan: plan, waiter: completion, partial: partial)
        fetches[id] = fetch
        counters.increment("blobs.fetch.started")
        if activeFetches < BlobLimits.fetchesMax {
            activeFetches += 1
            pump(fetch)
        } else {
            waiting.append(id)
        }
    }

    /// Makes every request the plan allows now; finishes the fetch when the plan has an outcome.
    /// Re-entrant calls (an answer arriving at once, inside a request) return at once: the outer
    /// loop picks up what they changed.
    func pump(_ fetch: Fetch) {
        guard !fetch.isPumping, fetches[fetch.id] === fetch else { return }
        fetch.isPumping = true
        while fetch.plan.outcome == nil, let request = fetch.plan.nextRequest() {
            send(request, for: fetch)
        }
        fetch.isPumping = false
        if let outcome = fetch.plan.outcome {
            finish(fetch, outcome)
        } else if fetch.plan.inFlight == 0 {
            finish(fetch, .failed("nothing left to ask (a bug)"))
        }
    }

    private func send(_ request: BlobFetchPlan.Request, for fetch: Fetch) {
        let source = fetch.sources[request.source]
        let asked: BlobRequest
        switch request {
        case .manifest: asked = .manifest(fetch.id)
        case let .chunk(index, _): asked = .chunk(fetch.id, index: UInt32(index))
        }
        guard let keys = pairwiseKeys(with: source.node.publicKey) else {
            return missed(request, .failed("\(source.node.short) has no usable key"), fetch)
        }
        let sealed = BlobSealing.sealRequest(asked, requester: identity.publicKey, keys: keys, using: &random)
        counters.increment("blobs.fetch.requests")
        transport.sendBlobRequest(sealed.bytes, to: source.address, timeout: BlobLimits.requestTimeout) { [weak self, weak fetch] result in
            guard let self, let fetch, !self.isClosed, self.fetches[fetch.id] === fetch else { return }
            self.received(result, for: request, asked: asked, nonce: sealed.nonce, keys: keys, fetch)
        }
    }

    private func missed(_ request: BlobFetchPlan.Request, _ miss: BlobFetchPlan.Miss, _ fetch: Fetch) {
        switch request {
        case let .manifest(source): fetch.plan.manifestMissed(miss, from: source)
        case let .chunk(index, source): fetch.plan.chunkMissed(index, miss, from: source)
        }
        if case let .failed(reason) = miss {
            counters.increment("blobs.fetch.failed_requests")
            log(.debug, "blob \(fetch.id.hex.prefix(16)): \(reason)")
        }
        pump(fetch)
    }

    private func received(_ result: Result<[UInt8], ExchangeFailure>, for request: BlobFetchPlan.Request, asked: BlobRequest,
                          nonce: [UInt8], keys: PairwiseKeys, _ fetch: Fetch) {
        let bytes: [UInt8]
        switch result {
        case let .failure(failure):
            return missed(request, .failed("\(fetch.sources[request.source].address): \(failure)"), fetch)
        case let .success(body):
            bytes = body
        }
        let response: BlobResponse
        do {
            response = try BlobSealing.openResponse(bytes, to: asked, requestNonce: nonce, keys: keys)
        } catch {
            counters.increment("blobs.fetch.unopened")
            return missed(request, .failed("\(fetch.sources[request.source].node.short) sent an answer that does not open (refused?)"), fetch)
        }
        switch (response, request) {
        case (.notHeld, _):
            missed(request, .notHeld, fetch)
        case (.busy, _):
            counters.increment("blobs.fetch.busy")
            // Ask again after a pause; the slot stays taken meanwhile (backpressure).
            let timer = try? LoopTimer(loop: loop)
            timer?.start(after: BlobLimits.busyBackoff) { [weak self, weak fetch] in
                timer?.close()
                guard let self, let fetch, !self.isClosed, self.fetches[fetch.id] === fetch else { return }
                self.missed(request, .busy, fetch)
            }
            if timer == nil { missed(request, .busy, fetch) }
        case let (.manifest(manifestBytes), .manifest(source)):
            guard let manifest = try? BlobManifest(wireBytes: manifestBytes) else {
                return missed(request, .failed("an undecodable manifest"), fetch)
            }
            fetch.plan.manifestArrived(manifest, from: source)
            if fetch.plan.manifest == nil {
                counters.increment("blobs.fetch.corrupt")
            } else {
                do {
                    fetch.partial = try PartialBlob(directory: directory, id: fetch.id, manifest: manifest)
                } catch {
                    return finish(fetch, storageFailure: "\(error)")
                }
            }
            pump(fetch)
        case let (.chunk(chunk), .chunk(index, source)):
            guard let manifest = fetch.plan.manifest, let partial = fetch.partial else { return }
            let verified = manifest.verify(chunk: chunk, index: index)
            if verified {
                do {
                    try partial.write(chunk, chunk: index)
                } catch {
                    return finish(fetch, storageFailure: "\(error)")
                }
                bytesFetched += UInt64(chunk.count)
                counters.increment("blobs.bytes.fetched", by: UInt64(chunk.count))
                counters.increment("blobs.fetch.chunks")
            } else {
                counters.increment("blobs.fetch.corrupt")
                log(.warning, "chunk \(index) of blob \(fetch.id.hex.prefix(16)) from \(fetch.sources[source].node.short) is corrupt")
            }
            fetch.plan.chunkArrived(index, from: source, verified: verified)
            pump(fetch)
        default:
            missed(request, .failed("an answer of the wrong kind"), fetch)
        }
    }

    /// Ends a fetch: as the plan decided (`outcome`), or because this peer could not store what
    /// arrived (`storageFailure`, which is not the sources' fault).
    private func finish(_ fetch: Fetch, _ outcome: BlobFetchPlan.Outcome = .done, storageFailure: String? = nil) {
        guard fetches[fetch.id] === fetch else { return }
        fetches[fetch.id] = nil
        activeFetches -= 1
        let result: Result<String, BlobFetchError>
        switch (outcome, storageFailure) {
        case let (_, reason?):
            result = .failure(.storage(reason))
        case (.done, nil):
            do {
                if let partial = fetch.partial {
                    result = .success(try partial.install())
                } else {
                    result = .failure(.storage("no partial file for a finished fetch"))
                }
            } catch {
                result = .failure(.storage("\(error)"))
            }
        case let (.failed(reason), nil):
            result = .failure(.unavailable(reason))
        }
        switch result {
        case .success:
            counters.increment("blobs.fetch.completed")
            log(.info, "fetched blob \(fetch.id.hex.prefix(16)) (\(fetch.plan.manifest?.byteCount ?? 0) bytes)")
        case let .failure(error):
            counters.increment("blobs.fetch.failed")
            log(.warning, "cannot fetch blob \(fetch.id.hex.prefix(16)): \(error)")
        }
        fetch.partial = nil
        let waiters = fetch.waiters
        fetch.waiters = []
        later { for waiter in waiters { waiter(result) } }
        while activeFetches < BlobLimits.fetchesMax, !waiting.isEmpty {
            let next = waiting.removeFirst()
            guard let queued = fetches[next] else { continue }
            activeFetches += 1
            pump(queued)
        }
    }
}
