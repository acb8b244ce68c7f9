import StarlingCrypto
@testable import StarlingTasks
import StarlingTrust
import Testing

/// The merge is commutative and idempotent: random sets of entries (leases, renewals, races,
/// commits on several lines, announces, reports, completions) merged in many orders, with
/// duplicates, give the same entries, digest, bytes and view; and every view's line has each round
/// once, in order, from round 1.
@Suite struct MergePropertyTests {
    let fixture = TaskFixture(rounds: 20)

    /// A random universe of entries about one task, built so that leases often resume from commits
    /// that exist (and sometimes from ones that do not).
    func universe(using random: inout SeededRandom) -> [TaskEntry] {
        var entries: [TaskEntry] = []
        var commits: [CommitRef] = []
        let epochs = UInt64.random(in: 1...5, using: &random)
        for epoch in 1...epochs {
            for _ in 0..<Int.random(in: 1...2, using: &random) {
                let holder = Int.random(in: 0...3, using: &random)
                var base: CommitRef?
                if epoch > 1, let known = commits.filter({ $0.epoch < epoch }).randomElement(using: &random) {
                    base = Bool.random(using: &random) || Int.random(in: 0..<10, using: &random) > 0 ? known
                        : CommitRef(epoch: known.epoch, round: known.round, modelHash: TaskFixture.model(250))
                }
                let capacity: Double = [1.0, 2.0, 10.0].randomElement(using: &random) ?? 1.0
                for renewal in 0...UInt32.random(in: 0...2, using: &random) {
                    entries.append(fixture.lease(epoch, by: holder, base: base, expiresAt: TaskFixture.now + UInt64(renewal) * 30,
                                                 renewal: renewal, capacity: capacity))
                }
                var round = (base?.round ?? 0) + 1
                for _ in 0..<Int.random(in: 0...4, using: &random) where round <= 12 {
                    // Sometimes skip a round (a gap) or commit it twice with another model (equivocation).
                    if Int.random(in: 0..<8, using: &random) == 0 { round += 1 }
                    let model = UInt8.random(in: 0...3, using: &random)
                    let entry = fixture.commit(epoch, round: round, by: holder, model: model)
                    entries.append(entry)
                    if let ref = TaskFixture.ref(entry) { commits.append(ref) }
                    round += 1
                }
                if Bool.random(using: &random) { entries.append(fixture.announce(epoch, round: round, by: holder)) }
                if Int.random(in: 0..<4, using: &random) == 0, let last = commits.last {
                    entries.append(fixture.entry(.complete(last), by: holder))
                }
            }
        }
        for _ in 0..<Int.random(in: 0...10, using: &random) {
            let worker = TaskFixture.workers.randomElement(using: &random) ?? "w0"
            entries.append(fixture.report(worker, epoch: UInt64.random(in: 0...epochs, using: &random),
                                          round: UInt64.random(in: 0...6, using: &random),
                                          state: WorkerState.allCases.randomElement(using: &random) ?? .ready))
        }
        if let ack = commits.randomElement(using: &random) { entries.append(fixture.entry(.replicated(ack), by: 4)) }
        if Int.random(in: 0..<6, using: &random) == 0 { entries.append(fixture.entry(.cancel(reason: "stop"), by: 10)) }
        return entries
    }

    @Test(arguments: 0..<40)
    func anyOrderGivesTheSameState(seed: UInt64) throws {
        var random = SeededRandom(seed: 0xC0FFEE &+ seed)
        let entries = universe(using: &random)
        let (reference, _) = fixture.merged(entries)
        let view = reference.view
        let bytes = reference.wireBytes

        for _ in 0..<12 {
            // Each order also repeats some entries (duplicates) and re-merges a whole prefix (idempotence).
            var order = entries.shuffled(using: &random)
            order += order.prefix(Int.random(in: 0...order.count, using: &random))
            let (state, outcomes) = fixture.merged(order.shuffled(using: &random))
            #expect(!outcomes.contains { if case .rejected = $0 { return true } else { return false } })
            #expect(state == reference)
            #expect(state.digest == reference.digest)
            #expect(state.wireBytes == bytes)
            #expect(state.view == view)
        }

        // Merging one state into another, both ways, gives the same again.
        let half = entries.count / 2
        var left = fixture.merged(Array(entries.prefix(half))).0
        var right = fixture.merged(Array(entries.suffix(from: half))).0
        for entry in right.entries(notIn: Set(left.entryHashes)) { _ = left.merge(entry, roles: fixture.lookup, verifier: fixture.cache) }
        for entry in left.entries(notIn: Set(right.entryHashes)) { _ = right.merge(entry, roles: fixture.lookup, verifier: fixture.cache) }
        #expect(left.digest == reference.digest && right.digest == reference.digest)

        // The surviving line: rounds 1, 2, 3... each once, each commit counted, the rest not.
        #expect(view.committedRounds.map(\.round) == Array(0..<UInt64(view.committedRounds.count)).map { $0 + 1 })
        for round in view.committedRounds { #expect(view.status(of: round.entry) == .counted) }
        if let lease = view.currentLease { #expect(view.nextEpoch > lease.epoch) }
        #expect(try TaskState(wireBytes: bytes) == reference)
    }
}
