import StarlingBlobs
import StarlingCrypto
import Testing

@Suite struct FetchPlanTests {
    static let data = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
    static let manifest = try! BlobManifest(of: data, chunkBytes: 1_000)  // 10 chunks
    static let node: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 3] + Array(repeating: 0, count: 24)

    /// Runs a plan against simulated sources: `holds(source, chunk)` says who has what,
    /// `corrupt(source, chunk)` who sends bad bytes, `down` who fails every request.
    struct World {
        var holds: (Int, Int) -> Bool = { _, _ in true }
        var corrupt: (Int, Int) -> Bool = { _, _ in false }
        var down: Set<Int> = []
        var asked: [BlobFetchPlan.Request] = []
        var maxInFlight = 0

        mutating func run(_ plan: inout BlobFetchPlan, steps: Int = 10_000) {
            for _ in 0..<steps where plan.outcome == nil {
                var batch: [BlobFetchPlan.Request] = []
                while let request = plan.nextRequest() { batch.append(request) }
                maxInFlight = max(maxInFlight, plan.inFlight)
                if batch.isEmpty { break }
                asked += batch
                for request in batch {
                    switch request {
                    case let .manifest(source):
                        if down.contains(source) { plan.manifestMissed(.failed("connection refused"), from: source) }
                        else { plan.manifestArrived(FetchPlanTests.manifest, from: source) }
                    case let .chunk(index, source):
                        if down.contains(source) { plan.chunkMissed(index, .failed("connection refused"), from: source) }
                        else if !holds(source, index) { plan.chunkMissed(index, .notHeld, from: source) }
                        else { plan.chunkArrived(index, from: source, verified: !corrupt(source, index)) }
                    }
                }
            }
        }

        func chunkRequests(from source: Int) -> [Int] {
            asked.compactMap { if case let .chunk(index, s) = $0, s == source { return index } else { return nil } }
        }
    }

    func plan(sources: Int, held: [Bool]? = nil, withManifest: Bool = false, settings: BlobFetchPlan.Settings = .init()) -> BlobFetchPlan {
        BlobFetchPlan(id: Self.manifest.id, sourceCount: sources, localNode: Self.node,
                      manifest: withManifest || held != nil ? Self.manifest : nil, held: held, settings: settings)
    }

    @Test func oneSourceGetsEverythingWithinTheInFlightLimit() {
        var plan = plan(sources: 1)
        var world = World()
        world.run(&plan)
        #expect(plan.outcome == .done)
        #expect(plan.held.allSatisfy { $0 })
        #expect(Set(world.chunkRequests(from: 0)) == Set(0..<10))
        #expect(world.chunkRequests(from: 0).count == 10)
        #expect(world.maxInFlight == BlobLimits.chunksInFlightPerFetch)
    }

    @Test func theWalkStartsAtAnOffsetFromTheNodeID() {
        var plan = plan(sources: 1)
        var world = World()
        world.run(&plan)
        #expect(plan.startChunk == 3)  // seed 3 mod 10 chunks
        #expect(world.chunkRequests(from: 0).first == 3)
        var other = BlobFetchPlan(id: Self.manifest.id, sourceCount: 1, localNode: [0, 0, 0, 0, 0, 0, 0, 8], manifest: Self.manifest)
        #expect(other.nextRequest() == .chunk(index: 8, source: 0))
    }

    @Test func chunksAreSpreadAcrossTheNonFirstSources() {
        var plan = plan(sources: 4)
        var world = World()
        world.run(&plan)
        #expect(plan.outcome == .done)
        #expect(world.chunkRequests(from: 0).isEmpty, "the first source is only the fallback")
        for source in 1...3 { #expect(world.chunkRequests(from: source).count >= 3) }
    }

    @Test func notHeldFallsBackToTheFirstSource() {
        var plan = plan(sources: 3)
        var world = World(holds: { source, chunk in source == 0 || (source == 1 && chunk < 5) })
        world.run(&plan)
        #expect(plan.outcome == .done)
        // Chunks 5...9 came from the first source, after both others said "not held" (or one did).
        #expect(Set(world.chunkRequests(from: 0)) == Set(5..<10))
        #expect(plan.corruptCount == 0)
    }

    @Test func theManifestIsAskedFromTheFirstSourceFirst() {
        var plan = plan(sources: 5)
        #expect(plan.nextRequest() == .manifest(source: 0))
    }

    @Test func aChunkNoOtherHoldsCostsAtMostOthersBeforeFirstExtraAsks() {
        // Ten fetchers starting together: none of the others holds anything yet.
        var plan = plan(sources: 10)
        var world = World(holds: { source, _ in source == 0 })
        world.run(&plan)
        #expect(plan.outcome == .done)
        for index in 0..<10 {
            let asked = world.asked.filter { if case .chunk(index, _) = $0 { true } else { false } }.map(\.source)
            #expect(asked.count == BlobLimits.othersAskedBeforeFirstSource + 1, "chunk \(index): \(asked)")
            #expect(asked.last == 0)
            #expect(Set(asked.dropLast()).count == asked.count - 1 && !asked.dropLast().contains(0))
        }
    }

    @Test func theRestOfTheOthersAreAskedWhenTheFirstSourceLacksAChunk() {
        var plan = plan(sources: 8)
        var world = World(holds: { source, chunk in source == 7 || (source == 0 && chunk != 4) })
        world.run(&plan)
        #expect(plan.outcome == .done)
        let askedFor4 = world.asked.filter { if case .chunk(4, _) = $0 { true } else { false } }.map(\.source)
        #expect(askedFor4.last == 7)
        #expect((askedFor4.firstIndex(of: 0) ?? 0) <= BlobLimits.othersAskedBeforeFirstSource)
        #expect(Set(askedFor4).count == askedFor4.count, "no source asked twice in a round: \(askedFor4)")
    }

    @Test func aCorruptChunkIsCountedAndFetchedElsewhere() {
        var plan = plan(sources: 3)
        var world = World(corrupt: { source, chunk in source == 1 && chunk == 4 })
        world.run(&plan)
        #expect(plan.outcome == .done)
        #expect(plan.corruptCount == 1)
        let askedFor4 = world.asked.filter { if case .chunk(4, _) = $0 { true } else { false } }.map(\.source)
        #expect(askedFor4.count == 2)
        #expect(askedFor4.first == 1 && askedFor4.last != 1)
    }

    @Test func givesUpAfterRetriesPerChunkWithAReason() {
        var plan = plan(sources: 2, settings: .init(retriesPerItem: 3, sourceFailuresMax: 100))
        var world = World(corrupt: { _, chunk in chunk == 7 })
        world.run(&plan)
        guard case let .failed(reason) = plan.outcome else {
            Issue.record("expected a failure, got \(String(describing: plan.outcome))")
            return
        }
        #expect(reason.contains("chunk 7") && reason.contains("3 failures") && reason.contains("corrupt"), "\(reason)")
        #expect(world.asked.filter { if case .chunk(7, _) = $0 { true } else { false } }.count == 3)
    }

    @Test func aChunkNobodyHoldsFailsAfterRoundsOfNotHeld() {
        var plan = plan(sources: 3, settings: .init(retriesPerItem: 2))
        var world = World(holds: { _, chunk in chunk != 2 })
        world.run(&plan)
        guard case let .failed(reason) = plan.outcome else {
            Issue.record("expected a failure")
            return
        }
        #expect(reason.contains("chunk 2") && reason.contains("first source does not hold it"), "\(reason)")
    }

    @Test func aSourceThatIsDownIsSkipped() {
        var plan = plan(sources: 3)
        var world = World(down: [1])
        world.run(&plan)
        #expect(plan.outcome == .done)
        let toSource1 = world.asked.filter { $0.source == 1 }.count
        #expect(toSource1 >= 1 && toSource1 <= BlobLimits.sourceFailuresMax + BlobLimits.chunksInFlightPerFetch)
    }

    @Test func everySourceDownFailsTheFetch() {
        var plan = plan(sources: 2)
        var world = World(down: [0, 1])
        world.run(&plan)
        guard case let .failed(reason) = plan.outcome else {
            Issue.record("expected a failure")
            return
        }
        #expect(reason.contains("the manifest"), "\(reason)")
    }

    @Test func theManifestComesFromAnotherSourceWhenTheFirstIsDown() {
        var plan = plan(sources: 2)
        var world = World(holds: { source, _ in source == 1 }, down: [0])
        world.run(&plan)
        #expect(plan.outcome == .done)
    }

    @Test func aManifestOfAnotherBlobIsCorrupt() {
        var plan = plan(sources: 1)
        guard case let .manifest(source)? = plan.nextRequest() else {
            Issue.record("expected a manifest request")
            return
        }
        plan.manifestArrived(try! BlobManifest(of: [1, 2, 3]), from: source)
        #expect(plan.corruptCount == 1)
        #expect(plan.manifest == nil)
        #expect(plan.nextRequest() == .manifest(source: 0))
    }

    @Test func aResumedFetchAsksOnlyForMissingChunks() {
        var held = Array(repeating: true, count: 10)
        held[2] = false
        held[9] = false
        var plan = plan(sources: 2, held: held)
        var world = World()
        world.run(&plan)
        #expect(plan.outcome == .done)
        #expect(world.asked.count == 2)
        #expect(Set(world.asked.compactMap { if case let .chunk(i, _) = $0 { i } else { nil } }) == [2, 9])
        let complete = BlobFetchPlan(id: Self.manifest.id, sourceCount: 0, localNode: Self.node, manifest: Self.manifest,
                                     held: Array(repeating: true, count: 10))
        #expect(complete.outcome == .done)
    }

    @Test func busyIsAskedAgainWithoutCounting() {
        var plan = plan(sources: 1, withManifest: true, settings: .init(inFlightMax: 1, retriesPerItem: 1, busyRetriesMax: 3))
        let first = plan.nextRequest()
        guard case let .chunk(index, _)? = first else {
            Issue.record("expected a chunk request")
            return
        }
        for _ in 0..<3 {
            plan.chunkMissed(index, .busy, from: 0)
            #expect(plan.nextRequest() == .chunk(index: index, source: 0))
        }
        plan.chunkMissed(index, .busy, from: 0)
        #expect(plan.outcome != nil && plan.outcome != .done)
    }

    @Test func noSourcesFailsAtOnceAndAddedSourcesAreUsed() {
        #expect(plan(sources: 0).outcome != nil)
        var plan = plan(sources: 1)
        #expect(plan.addSource() == 1)
        var world = World()
        world.run(&plan)
        #expect(plan.outcome == .done)
        #expect(!world.chunkRequests(from: 1).isEmpty)
    }

    @Test func staleAnswersAreIgnored() {
        var plan = plan(sources: 1, withManifest: true)
        plan.chunkArrived(0, from: 0, verified: true)  // never asked
        #expect(plan.heldCount == 0 && plan.inFlight == 0)
        plan.chunkMissed(42, .notHeld, from: 0)
        #expect(plan.inFlight == 0)
    }
}
