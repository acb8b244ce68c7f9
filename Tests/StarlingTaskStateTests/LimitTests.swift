import StarlingCrypto
@testable import StarlingTasks
import StarlingTrust
import StarlingWire
import Testing

/// Each limit of `TaskStateLimits` is reached and holds.
@Suite struct LimitTests {
    let fixture = TaskFixture()

    @Test func onlyTheLatestReportsOfAWorkerAreKept() {
        var state = fixture.state()
        let reports = (1...6).map { fixture.report("w0", round: UInt64($0), state: .submitted) }
        for report in reports.dropFirst(2) {
            #expect(state.merge(report, roles: fixture.lookup, verifier: fixture.cache) == .added)
        }
        // Rounds 3-6 are held; rounds 1 and 2 are older than all of them.
        #expect(state.count == TaskStateLimits.reportsPerWorkerMax)
        #expect(state.merge(reports[0], roles: fixture.lookup, verifier: fixture.cache) == .superseded)
        #expect(state.merge(fixture.report("w0", round: 7, state: .ready), roles: fixture.lookup, verifier: fixture.cache) == .added)
        #expect(state.count == TaskStateLimits.reportsPerWorkerMax)
        #expect(!state.contains(reports[2].hash))
        #expect(state.view.federated?.latestReports["w0"]?.round == 7)
        // Another worker has its own quota.
        #expect(state.merge(fixture.report("w1", round: 1, state: .ready), roles: fixture.lookup, verifier: fixture.cache) == .added)
    }

    @Test func participantsMetricsAndTextAreBounded() throws {
        let many = (0...TaskStateLimits.metricsMax).map { try! Metric(name: "m\($0)", value: 1) }
        let commit = fixture.entry(.commit(RoundCommit(epoch: 1, round: 1, modelHash: ModelHash.none, participants: ["w0"],
                                                       sampleCount: 1, metrics: many)), by: 0)
        var state = fixture.state()
        guard case .rejected(.invalid) = state.merge(commit, roles: fixture.lookup, verifier: fixture.cache) else {
            Issue.record("too many metrics accepted"); return
        }
        #expect(throws: WireError.self) { try TaskEntry(wireBytes: commit.wireBytes) }

        let longName = try Metric(name: String(repeating: "m", count: TaskStateLimits.metricNameBytesMax + 1), value: 1)
        let named = fixture.entry(.commit(RoundCommit(epoch: 1, round: 1, modelHash: ModelHash.none, participants: [],
                                                      sampleCount: 1, metrics: [longName])), by: 0)
        #expect(throws: WireError.self) { try TaskEntry(wireBytes: named.wireBytes) }

        let crowd = (0...TaskStateLimits.participantsMax).map { Participant(worker: "w\($0)", node: TaskFixture.node(20)) }
        let announce = fixture.entry(.announce(RoundAnnouncement(epoch: 1, round: 1, baseModel: ModelHash.none,
                                                                 participants: crowd, deadline: 0)), by: 0)
        #expect(throws: WireError.self) { try TaskEntry(wireBytes: announce.wireBytes) }

        let message = String(repeating: "x", count: TaskStateLimits.messageBytesMax)
        #expect(state.merge(fixture.report("w0", round: 1, state: .failed, message: message),
                            roles: fixture.lookup, verifier: fixture.cache) == .added)
    }

    @Test func aTaskHoldsAtMostEntriesMax() {
        // Unsigned entries through the internal insert (signing 100,000 would only slow the test),
        // in hash order so each lands at the end.
        let key = TaskFixture.key(10)
        let signature = key.sign([0])
        let author = TaskFixture.node(10)
        let entries = (0...TaskStateLimits.entriesMax).map {
            TaskEntry(task: fixture.task, author: author, body: .cancel(reason: "\($0)"), signature: signature)
        }.sorted { $0.hash < $1.hash }
        var state = fixture.state()
        for entry in entries.dropLast() { _ = state.insert(entry) }
        #expect(state.count == TaskStateLimits.entriesMax)
        #expect(state.insert(entries[entries.count - 1]) == .rejected(.limitReached))
        // A renewal replaces rather than adds, so it still fits... but a new lease does not.
        #expect(state.insert(fixture.lease(1, by: 0)) == .rejected(.limitReached))
    }
}
