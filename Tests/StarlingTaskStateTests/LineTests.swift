import StarlingCrypto
@testable import StarlingTasks
import StarlingTrust
import Testing

/// The derived view: leases, the line of rounds, fencing, races, phases.
@Suite struct LineTests {
    let fixture = TaskFixture()

    func view(_ entries: [TaskEntry]) -> TaskView {
        let (state, outcomes) = fixture.merged(entries)
        #expect(outcomes.allSatisfy { $0 == .added }, "\(outcomes)")
        return state.view
    }

    func rounds(_ view: TaskView) -> [UInt64] { view.committedRounds.map(\.round) }

    @Test func aNewTaskIsPendingThenRunningWithItsLineOfRounds() {
        #expect(fixture.state().view.phase == .pending)
        #expect(fixture.state().view.nextEpoch == 1)
        #expect(fixture.state().view.currentLease == nil)
        let lease = fixture.lease(1, by: 0)
        let commits = (1...3).map { fixture.commit(1, round: $0, by: 0) }
        let announce = fixture.announce(1, round: 4, by: 0)
        let view = view([lease, announce] + commits)
        #expect(view.phase == .running)
        #expect(view.currentLease?.holder == TaskFixture.node(0))
        #expect(view.nextEpoch == 2)
        #expect(rounds(view) == [1, 2, 3])
        #expect(view.lastCommitted?.coordinator == TaskFixture.node(0))
        #expect(view.federated?.announcement?.round == 4)
        #expect(view.isLeaseValid(at: TaskFixture.now, holderAlive: true))
        #expect(!view.isLeaseValid(at: TaskFixture.now + 60, holderAlive: true))
        #expect(!view.isLeaseValid(at: TaskFixture.now, holderAlive: false))
        #expect(view.entries(.superseded).isEmpty && view.entries(.stale).isEmpty)
    }

    @Test func aGapEndsTheLine() {
        let view = view([fixture.lease(1, by: 0), fixture.commit(1, round: 1, by: 0), fixture.commit(1, round: 3, by: 0)])
        #expect(rounds(view) == [1])
    }

    @Test func aLaterLeaseResumesFromItsBase() {
        let first = (1...3).map { fixture.commit(1, round: $0, by: 0) }
        let base = TaskFixture.ref(first[2])
        let second = (4...5).map { fixture.commit(2, round: $0, by: 1) }
        let view = view([fixture.lease(1, by: 0), fixture.lease(2, by: 1, base: base)] + first + second)
        #expect(rounds(view) == [1, 2, 3, 4, 5])
        #expect(view.committedRounds.map(\.epoch) == [1, 1, 1, 2, 2])
        #expect(view.currentLease?.epoch == 2)
        #expect(view.currentLease?.holder == TaskFixture.node(1))
        #expect(view.nextEpoch == 3)
    }

    @Test func aStaleEpochCommitIsIgnoredButKept() {
        // Node 0 commits rounds 1-3 under epoch 1; node 1 takes epoch 2 from round 2 (it had not seen
        // round 3); node 0, not knowing, commits round 4 under epoch 1. Rounds 3 and 4 under epoch 1
        // are fenced; node 1's round 3 counts.
        let first = (1...4).map { fixture.commit(1, round: $0, by: 0) }
        let lease2 = fixture.lease(2, by: 1, base: TaskFixture.ref(first[1]))
        let takeover = fixture.commit(2, round: 3, by: 1)
        let lateAnnounce = fixture.announce(1, round: 5, by: 0)
        let (state, _) = fixture.merged([fixture.lease(1, by: 0), lease2, takeover, lateAnnounce] + first)
        let view = state.view
        #expect(rounds(view) == [1, 2, 3])
        #expect(view.lastCommitted?.entry == takeover.hash)
        #expect(view.status(of: first[2].hash) == .stale)
        #expect(view.status(of: first[3].hash) == .stale)
        #expect(view.status(of: lateAnnounce.hash) == .stale)
        #expect(view.federated?.announcement == nil)
        #expect(state.contains(first[3].hash))
        #expect(view.currentLease?.epoch == 2)
    }

    @Test func aCommitUnderNoLeaseIsStale() {
        let orphan = fixture.commit(3, round: 1, by: 2)
        let notHolder = fixture.commit(1, round: 2, by: 1)  // node 1 holds no lease of epoch 1
        let view = view([fixture.lease(1, by: 0), fixture.commit(1, round: 1, by: 0), orphan, notHolder])
        #expect(rounds(view) == [1])
        #expect(view.status(of: orphan.hash) == .stale)
        #expect(view.status(of: notHolder.hash) == .stale)
    }

    @Test func aPartitionHealsToOneLine() {
        // Both sides resume from round 2 under epoch 2 with different holders. Side A commits 3-6,
        // side B 3-5 and announces 6.
        let common = [fixture.lease(1, by: 0)] + (1...2).map { fixture.commit(1, round: $0, by: 0) }
        let base = TaskFixture.ref(common[2])
        let sideA = [fixture.lease(2, by: 1, base: base)] + (3...6).map { fixture.commit(2, round: $0, by: 1, model: UInt8($0) + 100) }
        let sideB = [fixture.lease(2, by: 2, base: base)] + (3...5).map { fixture.commit(2, round: $0, by: 2, model: UInt8($0) + 200) }
            + [fixture.announce(2, round: 6, by: 2)]

        let viewA = view(common + sideA), viewB = view(common + sideB)
        #expect(rounds(viewA) == [1, 2, 3, 4, 5, 6] && rounds(viewB) == [1, 2, 3, 4, 5])
        #expect(viewB.federated?.announcement?.round == 6)

        let healed = view(common + sideB + sideA)
        #expect(rounds(healed) == [1, 2, 3, 4, 5, 6])
        #expect(Set(healed.committedRounds.dropFirst(2).map(\.coordinator)) == [TaskFixture.node(1)])
        #expect(healed.currentLease?.holder == TaskFixture.node(1))
        for entry in sideB { #expect(healed.status(of: entry.hash) == .superseded) }
        #expect(healed.federated?.announcement == nil)
        #expect(healed.nextEpoch == 3)

        // A new lease after the heal fences both sides: side A's later commit no longer counts.
        let tip = healed.lastCommitted!.ref
        let epoch3 = fixture.lease(3, by: 3, base: tip)
        let lateA = fixture.commit(2, round: 7, by: 1)
        let after = view(common + sideA + sideB + [epoch3, lateA])
        #expect(rounds(after) == [1, 2, 3, 4, 5, 6])
        #expect(after.currentLease?.epoch == 3)
        #expect(after.status(of: lateA.hash) == .stale)
    }

    @Test func equalProgressIsSettledByElectionScoreThenNodeID() {
        let task = fixture.task
        let score = { (index: Int, capacity: Double) in
            CoordinatorElection.electionScore(task: task, node: TaskFixture.node(index), capacity: capacity)
        }
        // A race for epoch 1 with no commit: the higher score wins, whatever the order.
        let (high, low) = score(0, 1) > score(1, 1) ? (0, 1) : (1, 0)
        let highLease = fixture.lease(1, by: high), lowLease = fixture.lease(1, by: low)
        let view = view([lowLease, highLease])
        #expect(view.currentLease?.holder == TaskFixture.node(high))
        #expect(view.status(of: lowLease.hash) == .superseded)
        #expect(view.status(of: highLease.hash) == .counted)

        // Capacity weighs in: a large enough declared capacity turns the race.
        let boosted = fixture.lease(1, by: low, capacity: 1_000_000)
        let turned = self.view([highLease, boosted])
        #expect(turned.currentLease?.holder == TaskFixture.node(low))

        // Progress beats score: the low scorer that committed a round wins.
        let progressed = self.view([highLease, lowLease, fixture.commit(1, round: 1, by: low)])
        #expect(progressed.currentLease?.holder == TaskFixture.node(low))
    }

    @Test func aRenewalSupersedesTheOlderOne() {
        var state = fixture.state()
        let merge = { (entry: TaskEntry) in state.merge(entry, roles: fixture.lookup, verifier: fixture.cache) }
        let claim = fixture.lease(1, by: 0, expiresAt: TaskFixture.now + 30)
        let renewal = fixture.lease(1, by: 0, expiresAt: TaskFixture.now + 60, renewal: 1)
        let second = fixture.lease(1, by: 0, expiresAt: TaskFixture.now + 90, renewal: 2)
        #expect(merge(claim) == .added)
        #expect(merge(second) == .added)
        #expect(merge(renewal) == .superseded)
        #expect(merge(claim) == .superseded)
        #expect(state.entryHashes == [second.hash])
        #expect(state.view.currentLease?.expiresAt == TaskFixture.now + 90)
        #expect(state.view.isLeaseValid(at: TaskFixture.now + 89, holderAlive: true))

        var reversed = fixture.state()
        for entry in [second, renewal, claim] { _ = reversed.merge(entry, roles: fixture.lookup, verifier: fixture.cache) }
        #expect(reversed == state)
    }

    @Test func nextEpochIsAboveEveryLeaseEvenOnesOnNoLine() {
        // A lease whose base is not (yet) known is on no line, but still raises the next epoch.
        let unknownBase = CommitRef(epoch: 4, round: 9, modelHash: TaskFixture.model(9))
        let detached = fixture.lease(7, by: 2, base: unknownBase)
        let view = view([fixture.lease(1, by: 0), fixture.commit(1, round: 1, by: 0), detached])
        #expect(view.nextEpoch == 8)
        #expect(view.currentLease?.epoch == 1)
        #expect(view.status(of: detached.hash) == .superseded)
    }

    @Test func completionAndCancellation() {
        let commits = (1...2).map { fixture.commit(1, round: $0, by: 0) }
        let done = fixture.entry(.complete(TaskFixture.ref(commits[1])!), by: 0)
        let fakeDone = fixture.entry(.complete(TaskFixture.ref(commits[1])!), by: 1)  // not the holder
        let cancel = fixture.entry(.cancel(reason: "enough"), by: 10)
        let running = view([fixture.lease(1, by: 0), fakeDone] + commits)
        #expect(running.phase == .running)
        #expect(running.status(of: fakeDone.hash) == .stale)
        let completed = view([fixture.lease(1, by: 0), done, cancel] + commits)
        #expect(completed.phase == .completed)
        #expect(completed.completion?.round == 2)
        let cancelled = view([fixture.lease(1, by: 0), cancel] + commits)
        #expect(cancelled.phase == .cancelled)
        #expect(cancelled.cancelReason == "enough")
        #expect(view([cancel]).phase == .cancelled)
    }

    @Test func aSuccessorCompletesATaskWhoseCoordinatorDiedAfterTheLastCommit() {
        // Node 0 commits the last round (2) and dies before signing the completion; node 1 takes
        // over from that commit at epoch 2 and completes it. Node 2 (no lease) cannot.
        let commits = (1...2).map { fixture.commit(1, round: $0, by: 0) }
        let last = TaskFixture.ref(commits[1])!
        let takeover = fixture.lease(2, by: 1, base: last)
        let bySuccessor = fixture.entry(.complete(last), by: 1)
        let byStranger = fixture.entry(.complete(last), by: 2)
        let earlier = fixture.entry(.complete(TaskFixture.ref(commits[0])!), by: 1)  // not the line's last commit
        #expect(view([fixture.lease(1, by: 0), takeover, byStranger, earlier] + commits).phase == .running)
        let completed = view([fixture.lease(1, by: 0), takeover, bySuccessor] + commits)
        #expect(completed.phase == .completed)
        #expect(completed.completion == last)
    }

    @Test func reportsReplicasAndTheLastError() {
        let reports = [
            fixture.report("w0", round: 1, state: .training),
            fixture.report("w0", round: 1, state: .submitted),
            fixture.report("w1", round: 1, state: .failed, message: "out of memory"),
            fixture.report("w1", round: 2, state: .training),
        ]
        let ref = CommitRef(epoch: 1, round: 1, modelHash: TaskFixture.model(8))
        let acks = [fixture.entry(.replicated(ref), by: 2), fixture.entry(.replicated(ref), by: 1)]
        let view = view(reports + acks)
        #expect(view.federated?.latestReports["w0"]?.state == .submitted)
        #expect(view.federated?.latestReports["w1"]?.round == 2)
        #expect(view.federated?.lastError?.message == "out of memory")
        #expect(view.replicatedBy[ref] == [TaskFixture.node(1), TaskFixture.node(2)].sorted())
    }

    @Test func aCommitBelowMinNodeNumberIsRefusedWhoeverSignsIt() {
        // The fixture's spec asks for 2 updates a round (min_node_number 2).
        let short = fixture.entry(.commit(RoundCommit(epoch: 1, round: 1, modelHash: TaskFixture.model(1), participants: ["w0"],
                                                      sampleCount: 10, metrics: [])), by: 0)
        let (state, outcomes) = fixture.merged([fixture.lease(1, by: 0), short])
        #expect(outcomes.first == .added)
        guard case let .rejected(.invalid(reason)) = outcomes.last else {
            Issue.record("a short commit was not refused: \(outcomes)")
            return
        }
        #expect(reason.contains("min_node_number (2)"), "\(reason)")
        #expect(state.view.committedRounds.isEmpty)
    }

    @Test func aFailureByTheHolderEndsTheTaskFailedWithItsReason() {
        let commit = fixture.commit(1, round: 1, by: 0)
        let failure = TaskFailure(epoch: 1, round: 2, reason: "round 2 had 1 of the 2 updates it needs; w1 on edge-1: failed")
        let fail = fixture.entry(.fail(failure), by: 0)
        let failed = view([fixture.lease(1, by: 0), commit, fail, fixture.entry(.cancel(reason: "late"), by: 10)])
        #expect(failed.phase == .failed)
        #expect(failed.failure == failure)
        // By a peer that holds no lease, or of a round the line has already committed: not counted.
        let stranger = fixture.entry(.fail(failure), by: 1)
        let behind = fixture.entry(.fail(TaskFailure(epoch: 1, round: 1, reason: "too late")), by: 0)
        let running = view([fixture.lease(1, by: 0), commit, stranger, behind])
        #expect(running.phase == .running)
        #expect(running.failure == nil)
        #expect(running.status(of: stranger.hash) != .counted && running.status(of: behind.hash) != .counted)
        // A completion wins over a failure.
        let done = fixture.entry(.complete(TaskFixture.ref(commit)!), by: 0)
        #expect(view([fixture.lease(1, by: 0), commit, fail, done]).phase == .completed)
    }

    @Test func aRoundWidenedWithTheSameDeadlineShowsItsLargestAnnouncement() {
        let narrow = fixture.entry(.announce(RoundAnnouncement(epoch: 1, round: 1, baseModel: ModelHash.none,
                                                               participants: [Participant(worker: "w0", node: TaskFixture.node(20))],
                                                               deadline: TaskFixture.now + 30)), by: 0)
        let wide = fixture.entry(.announce(RoundAnnouncement(epoch: 1, round: 1, baseModel: ModelHash.none,
                                                             participants: [Participant(worker: "w0", node: TaskFixture.node(20)),
                                                                            Participant(worker: "w1", node: TaskFixture.node(21))],
                                                             deadline: TaskFixture.now + 30)), by: 0)
        for order in [[narrow, wide], [wide, narrow]] {
            #expect(view([fixture.lease(1, by: 0)] + order).federated?.announcement?.participants.count == 2)
        }
    }
}
