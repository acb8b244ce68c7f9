import StarlingCrypto

/// The decisions of one blob fetch, without I/O: which source to ask for what, when to retry, when
/// to give up. The driver asks `nextRequest()` until it returns nil, performs those requests, and
/// reports each answer; it stops when `outcome` is set.
///
/// Sources are numbered as the driver listed them; source 0 is the *first source*, the one that
/// certainly holds the blob (the coordinator, say). The rules:
/// - the manifest comes first (one request at a time), asked first from the first source: it is
///   small, and the other sources may be fetching it too; chunks follow, at most
///   `Settings.inFlightMax` at once;
/// - chunks are walked from an offset derived from the fetcher's own node id, so fetchers that
///   start together ask for different chunks first and can then serve each other;
/// - each chunk is asked first from up to `Settings.othersBeforeFirst` non-first sources, in an
///   order that rotates with the chunk index, then from the first source, then from the rest (when
///   fetchers start together, a chunk is rarely held by many of them yet: asking all of them
///   first would cost a round trip each);
/// - a source answering "not held" is skipped for that item until every source has been asked
///   (a *round*); a round that ends without the item, and without another failure, counts as one;
/// - corrupt data and failed requests count as failures for the item and for the source; a source
///   with `sourceFailuresMax` consecutive failures is skipped for the rest of the fetch;
/// - "busy" answers are re-asked without counting, up to `busyRetriesMax` times per item;
/// - an item with `retriesPerItem` failures fails the fetch, with a reason.
public struct BlobFetchPlan: Sendable {
    public struct Settings: Sendable, Equatable {
        public var inFlightMax: Int
        public var retriesPerItem: Int
        public var sourceFailuresMax: Int
        public var busyRetriesMax: Int
        public var othersBeforeFirst: Int

        public init(inFlightMax: Int = BlobLimits.chunksInFlightPerFetch, retriesPerItem: Int = BlobLimits.retriesPerChunk,
                    sourceFailuresMax: Int = BlobLimits.sourceFailuresMax, busyRetriesMax: Int = BlobLimits.busyRetriesPerChunk,
                    othersBeforeFirst: Int = BlobLimits.othersAskedBeforeFirstSource) {
            precondition(inFlightMax >= 1 && retriesPerItem >= 1 && sourceFailuresMax >= 1 && busyRetriesMax >= 0
                && othersBeforeFirst >= 0)
            self.inFlightMax = inFlightMax
            self.retriesPerItem = retriesPerItem
            self.sourceFailuresMax = sourceFailuresMax
            self.busyRetriesMax = busyRetriesMax
            self.othersBeforeFirst = othersBeforeFirst
        }
    }

    public enum Request: Equatable, Sendable {
        case manifest(source: Int)
        case chunk(index: Int, source: Int)

        public var source: Int {
            switch self {
            case let .manifest(source), let .chunk(_, source): return source
            }
        }
    }

    /// An answer that brought no data.
    public enum Miss: Equatable, Sendable {
        case notHeld
        case busy
        /// The request failed (connection, timeout, an answer that does not open or decode).
        case failed(String)
    }

    public enum Outcome: Equatable, Sendable {
        case done
        case failed(String)
    }

    private struct Item: Sendable {
        var inFlight = false
        /// Sources asked in the current round without success.
        var tried: Set<Int> = []
        var failures = 0
        /// Whether a failure was counted in the current round (a round ends counting one otherwise).
        var failedThisRound = false
        var busy = 0
        var lastProblem = ""
    }

    public let id: ContentHash
    public let settings: Settings
    public private(set) var manifest: BlobManifest?
    /// Verified chunks (empty until the manifest is known).
    public private(set) var held: [Bool] = []
    public private(set) var heldCount = 0
    public private(set) var sourceCount: Int
    public private(set) var outcome: Outcome?
    public private(set) var inFlight = 0
    /// Chunks that arrived but failed verification, and manifests that did not hash to the id.
    public private(set) var corruptCount = 0
    /// The chunk the walk starts at (once the manifest is known).
    public private(set) var startChunk = 0

    private let seed: UInt64
    private var sourceFailures: [Int]
    private var manifestItem = Item()
    private var chunks: [Item] = []
    /// Next position (0..<chunkCount, relative to `startChunk`) of the first walk.
    private var walkPosition = 0
    /// Chunks handed back for another try, oldest first.
    private var again: [Int] = []

    /// A fetch of `id` from `sourceCount` sources, by the node whose id is `localNode` (its bytes
    /// seed the starting chunk). A resumed fetch passes the manifest and the chunks it already
    /// holds; those are never asked for.
    public init(id: ContentHash, sourceCount: Int, localNode: [UInt8], manifest: BlobManifest? = nil,
                held: [Bool]? = nil, settings: Settings = Settings()) {
        precondition(sourceCount >= 0)
        self.id = id
        self.settings = settings
        self.sourceCount = sourceCount
        sourceFailures = Array(repeating: 0, count: sourceCount)
        seed = localNode.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        if let manifest {
            precondition(manifest.id == id, "the manifest of another blob")
            precondition(held == nil || held!.count == manifest.chunkCount, "held must have one entry per chunk")
            accept(manifest, held: held ?? Array(repeating: false, count: manifest.chunkCount))
        } else if sourceCount == 0 {
            outcome = .failed("no source to fetch \(id.hex.prefix(16)) from")
        }
    }

    /// Adds a source at the end (a non-first one); returns its number.
    public mutating func addSource() -> Int {
        sourceCount += 1
        sourceFailures.append(0)
        return sourceCount - 1
    }

    // MARK: Decisions

    /// The next request to make now, or nil when none may be made (the in-flight limit, waiting for
    /// the manifest, or finished).
    public mutating func nextRequest() -> Request? {
        guard outcome == nil else { return nil }
        guard let manifest else {
            guard !manifestItem.inFlight else { return nil }
            var item = manifestItem
            let chosen = choose(&item, order: manifestPreference(), what: "the manifest")
            manifestItem = item
            guard let source = chosen else { return nil }
            manifestItem.inFlight = true
            inFlight += 1
            return .manifest(source: source)
        }
        guard inFlight < settings.inFlightMax else { return nil }
        let index: Int
        if !again.isEmpty {
            index = again.removeFirst()
        } else {
            var found: Int?
            while walkPosition < manifest.chunkCount {
                let candidate = (startChunk + walkPosition) % manifest.chunkCount
                walkPosition += 1
                if !held[candidate] && !chunks[candidate].inFlight {
                    found = candidate
                    break
                }
            }
            guard let found else { return nil }
            index = found
        }
        var item = chunks[index]
        let chosen = choose(&item, order: chunkPreference(item, key: index), what: "chunk \(index)")
        chunks[index] = item
        guard let source = chosen else { return nil }
        chunks[index].inFlight = true
        inFlight += 1
        return .chunk(index: index, source: source)
    }

    /// Sources for an item in preference order: the non-first ones rotating with `key`, then the first.
    public func preference(key: Int) -> [Int] {
        guard sourceCount > 1 else { return sourceCount == 1 ? [0] : [] }
        let others = sourceCount - 1
        let start = Int((UInt64(truncatingIfNeeded: key) &+ (seed >> 32)) % UInt64(others))
        return (0..<others).map { 1 + (start + $0) % others } + [0]
    }

    /// The manifest's order: the first source, then the others.
    func manifestPreference() -> [Int] {
        let order = preference(key: Int(seed >> 40))
        return order.isEmpty ? [] : [0] + order.dropLast()
    }

    /// A chunk's order this round: up to `othersBeforeFirst` non-first sources that did not say
    /// "not held" yet, then the first source, then the remaining others.
    private func chunkPreference(_ item: Item, key: Int) -> [Int] {
        let order = preference(key: key)
        guard !order.isEmpty else { return [] }
        let others = order.dropLast().filter { !item.tried.contains($0) && !isSkipped($0) }
        let triedOthers = item.tried.filter { $0 != 0 }.count
        let before = max(0, min(others.count, settings.othersBeforeFirst - triedOthers))
        return Array(others.prefix(before)) + [0] + others.dropFirst(before) + order.dropLast().filter { !others.contains($0) }
    }

    private func isSkipped(_ source: Int) -> Bool { sourceFailures[source] >= settings.sourceFailuresMax }

    /// Picks the source for an item from `order` (every source once), starting a new round when
    /// every usable source was tried; fails the fetch when the item is out of retries or no source
    /// is left.
    private mutating func choose(_ item: inout Item, order: [Int], what: String) -> Int? {
        if let source = order.first(where: { !item.tried.contains($0) && !isSkipped($0) }) { return source }
        if order.allSatisfy(isSkipped) {
            fail("\(what): every source failed \(settings.sourceFailuresMax) times in a row (last: \(item.lastProblem.isEmpty ? "none" : item.lastProblem))")
            return nil
        }
        // A round without the item: one failure, unless the round already counted one.
        item.tried = []
        if !item.failedThisRound { item.failures += 1 }
        item.failedThisRound = false
        if item.lastProblem.isEmpty { item.lastProblem = "no source holds it" }
        guard item.failures < settings.retriesPerItem else {
            fail("\(what): gave up after \(item.failures) failures (last: \(item.lastProblem))")
            return nil
        }
        return order.first(where: { !isSkipped($0) })
    }

    private mutating func fail(_ reason: String) {
        if outcome == nil { outcome = .failed(reason) }
    }

    private mutating func accept(_ manifest: BlobManifest, held: [Bool]) {
        self.manifest = manifest
        self.held = held
        heldCount = held.lazy.filter { $0 }.count
        chunks = Array(repeating: Item(), count: manifest.chunkCount)
        startChunk = manifest.chunkCount == 0 ? 0 : Int(seed % UInt64(manifest.chunkCount))
        if heldCount == manifest.chunkCount { outcome = .done }
    }

    // MARK: Answers

    /// The manifest arrived from `source`. One that does not hash to the id counts as corrupt.
    public mutating func manifestArrived(_ manifest: BlobManifest, from source: Int) {
        guard self.manifest == nil, manifestItem.inFlight else { return }
        manifestItem.inFlight = false
        inFlight -= 1
        guard manifest.id == id else {
            corruptCount += 1
            var item = manifestItem
            itemFailed(&item, source: source, problem: "a manifest of another blob from source \(source)", what: "the manifest")
            manifestItem = item
            return
        }
        sourceFailures[source] = 0
        accept(manifest, held: Array(repeating: false, count: manifest.chunkCount))
    }

    public mutating func manifestMissed(_ miss: Miss, from source: Int) {
        guard manifest == nil, manifestItem.inFlight else { return }
        manifestItem.inFlight = false
        inFlight -= 1
        var item = manifestItem
        missed(&item, miss, source: source, what: "the manifest")
        manifestItem = item
    }

    /// Chunk `index` arrived from `source`; `verified` says whether it matched the manifest.
    public mutating func chunkArrived(_ index: Int, from source: Int, verified: Bool) {
        guard index >= 0, index < chunks.count, chunks[index].inFlight else { return }
        chunks[index].inFlight = false
        inFlight -= 1
        guard verified else {
            corruptCount += 1
            var item = chunks[index]
            itemFailed(&item, source: source, problem: "corrupt data from source \(source)", what: "chunk \(index)")
            chunks[index] = item
            again.append(index)
            return
        }
        sourceFailures[source] = 0
        if !held[index] {
            held[index] = true
            heldCount += 1
        }
        if heldCount == held.count, outcome == nil { outcome = .done }
    }

    public mutating func chunkMissed(_ index: Int, _ miss: Miss, from source: Int) {
        guard index >= 0, index < chunks.count, chunks[index].inFlight else { return }
        chunks[index].inFlight = false
        inFlight -= 1
        var item = chunks[index]
        missed(&item, miss, source: source, what: "chunk \(index)")
        chunks[index] = item
        again.append(index)
    }

    private mutating func missed(_ item: inout Item, _ miss: Miss, source: Int, what: String) {
        switch miss {
        case .notHeld:
            item.tried.insert(source)
            if source == 0 { item.lastProblem = "the first source does not hold it" }
        case .busy:
            item.busy += 1
            if item.busy > settings.busyRetriesMax {
                fail("\(what): sources stayed busy after \(item.busy) tries")
            }
        case let .failed(reason):
            itemFailed(&item, source: source, problem: "source \(source): \(reason)", what: what)
        }
    }

    private mutating func itemFailed(_ item: inout Item, source: Int, problem: String, what: String) {
        item.tried.insert(source)
        item.failures += 1
        item.failedThisRound = true
        item.lastProblem = problem
        sourceFailures[source] += 1
        if item.failures >= settings.retriesPerItem {
            fail("\(what): gave up after \(item.failures) failures (last: \(problem))")
        }
    }
}
