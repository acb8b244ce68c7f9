import StarlingCrypto
import StarlingMembership
@testable import StarlingTasks
import StarlingTrust
import StarlingWire
import Testing

/// Nothing enters a task's state without its author's valid signature and the role its kind needs.
@Suite struct SignatureTests {
    let fixture = TaskFixture()

    @Test func aSignedSpecVerifiesAndItsIdIsTheHashOfTheWholeEncoding() throws {
        let signed = fixture.signedSpec
        try signed.verify(roles: fixture.lookup, verifier: DirectSignatureVerifier())
        #expect(signed.id.hash == ContentHash.of(signed.wireBytes))
        #expect(signed.id.text.count == 64)
        #expect(signed.id.short == String(signed.id.text.prefix(8)))
        #expect(try TaskID(text: signed.id.text) == signed.id)
        #expect(throws: (any Error).self) { try TaskID(text: "abc") }
        // The same spec submitted again, a second later, is another task.
        let again = try SignedTaskSpec.sign(signed.spec, submittedAt: TaskFixture.now + 1, with: TaskFixture.key(10))
        #expect(again.id != signed.id)
        #expect(try SignedTaskSpec(wireBytes: signed.wireBytes) == signed)
    }

    @Test func aSpecNeedsTheSubmitRoleAndAValidSignature() throws {
        let byCoordinator = try SignedTaskSpec.sign(TaskFixture.spec(), submittedAt: TaskFixture.now, with: TaskFixture.key(0))
        #expect(throws: TaskRejection.missingRole(TaskFixture.node(0), needs: .submit)) {
            try byCoordinator.verify(roles: fixture.lookup, verifier: fixture.cache)
        }
        let byStranger = try SignedTaskSpec.sign(TaskFixture.spec(), submittedAt: TaskFixture.now, with: TaskFixture.key(99))
        #expect(throws: TaskRejection.unknownAuthor(TaskFixture.node(99))) {
            try TaskState(verifying: byStranger, roles: fixture.lookup, verifier: fixture.cache)
        }
        // Another submitter's signature over the same fields, and an altered submission time.
        let signed = fixture.signedSpec
        let forged = try SignedTaskSpec(specBytes: signed.specBytes, submitter: signed.submitter, submittedAt: signed.submittedAt,
                                        signature: TaskFixture.key(30).sign(signed.signedBytes))
        #expect(throws: TaskRejection.badSignature) { try forged.verify(roles: fixture.lookup, verifier: fixture.cache) }
        let altered = try SignedTaskSpec(specBytes: signed.specBytes, submitter: signed.submitter,
                                         submittedAt: signed.submittedAt + 1, signature: signed.signature)
        #expect(throws: TaskRejection.badSignature) { try altered.verify(roles: fixture.lookup, verifier: fixture.cache) }
        _ = try TaskState(verifying: signed, roles: fixture.lookup, verifier: fixture.cache)
    }

    @Test func specBytesMustBeACanonicalSpec() throws {
        let signed = fixture.signedSpec
        #expect(throws: WireError.self) {
            try SignedTaskSpec(specBytes: signed.specBytes + [0], submitter: signed.submitter,
                               submittedAt: signed.submittedAt, signature: signed.signature)
        }
        #expect(throws: WireError.self) {
            try SignedTaskSpec(specBytes: [2] + signed.specBytes.dropFirst(), submitter: signed.submitter,
                               submittedAt: signed.submittedAt, signature: signed.signature)
        }
    }

    @Test func forgedAndAlteredEntriesAreRejected() {
        var state = fixture.state()
        let genuine = fixture.lease(1, by: 0)
        // Signed by node 1 but claiming node 0 as author (and holder).
        let forged = TaskEntry(task: genuine.task, author: genuine.author, body: genuine.body,
                               signature: TaskFixture.key(1).sign(genuine.signedBytes))
        #expect(state.merge(forged, roles: fixture.lookup, verifier: fixture.cache) == .rejected(.badSignature))
        // The genuine signature on a changed body.
        let lease = Lease(epoch: 1, holder: TaskFixture.node(0), base: nil, expiresAt: TaskFixture.now + 10_000)
        let altered = TaskEntry(task: genuine.task, author: genuine.author, body: .lease(lease), signature: genuine.signature)
        #expect(state.merge(altered, roles: fixture.lookup, verifier: fixture.cache) == .rejected(.badSignature))
        // The genuine entry moved to another task.
        let otherTask = TaskID(hash: ContentHash.of([1, 2, 3]))
        let moved = TaskEntry(task: otherTask, author: genuine.author, body: genuine.body, signature: genuine.signature)
        #expect(state.merge(moved, roles: fixture.lookup, verifier: fixture.cache) == .rejected(.wrongTask))
        // A signature made for another context (a membership claim's) never verifies as an entry.
        let wrongContext = TaskEntry(task: genuine.task, author: genuine.author, body: genuine.body,
                                     signature: TaskFixture.key(0).sign(Array(genuine.signedBytes.dropFirst(TaskEntry.signingContext.count))))
        #expect(state.merge(wrongContext, roles: fixture.lookup, verifier: fixture.cache) == .rejected(.badSignature))
        #expect(state.count == 0)
        #expect(state.merge(genuine, roles: fixture.lookup, verifier: fixture.cache) == .added)
        #expect(state.merge(genuine, roles: fixture.lookup, verifier: fixture.cache) == .duplicate)
    }

    @Test func eachKindNeedsItsRole() {
        var state = fixture.state()
        let merge = { (entry: TaskEntry) in state.merge(entry, roles: fixture.lookup, verifier: fixture.cache) }
        let peer = TaskFixture.node(20), submitter = TaskFixture.node(10)
        #expect(merge(fixture.lease(1, by: 20)) == .rejected(.missingRole(peer, needs: .coordinator)))
        #expect(merge(fixture.commit(1, round: 1, by: 10)) == .rejected(.missingRole(submitter, needs: .coordinator)))
        #expect(merge(fixture.announce(1, round: 1, by: 20)) == .rejected(.missingRole(peer, needs: .coordinator)))
        #expect(merge(fixture.entry(.cancel(reason: "stop"), by: 0)) == .rejected(.missingRole(TaskFixture.node(0), needs: .submit)))
        #expect(merge(fixture.entry(.complete(CommitRef(epoch: 1, round: 1, modelHash: ModelHash.none)), by: 20))
                == .rejected(.missingRole(peer, needs: .coordinator)))
        #expect(merge(fixture.entry(.replicated(CommitRef(epoch: 1, round: 1, modelHash: ModelHash.none)), by: 10))
                == .rejected(.missingRole(submitter, needs: .coordinator)))
        #expect(merge(fixture.report("w0", round: 0, state: .ready, by: 99)) == .rejected(.unknownAuthor(TaskFixture.node(99))))

        #expect(merge(fixture.report("w0", round: 0, state: .ready, by: 20)) == .added)
        #expect(merge(fixture.entry(.cancel(reason: "stop"), by: 10)) == .added)
        #expect(merge(fixture.lease(1, by: 30)) == .added)
    }

    @Test func entriesThatBreakTheirOwnRulesAreRejected() {
        var state = fixture.state()
        func outcome(_ entry: TaskEntry) -> MergeOutcome { state.merge(entry, roles: fixture.lookup, verifier: fixture.cache) }
        func isInvalid(_ entry: TaskEntry) -> Bool {
            if case .rejected(.invalid) = outcome(entry) { return true }
            return false
        }
        // A lease for another holder than its author.
        #expect(isInvalid(fixture.entry(.lease(Lease(epoch: 1, holder: TaskFixture.node(1), base: nil, expiresAt: 1)), by: 0)))
        #expect(isInvalid(fixture.lease(0, by: 0)))
        #expect(isInvalid(fixture.lease(2, by: 0, base: CommitRef(epoch: 2, round: 1, modelHash: ModelHash.none))))
        #expect(isInvalid(fixture.lease(1, by: 0, capacity: 0)))
        #expect(isInvalid(fixture.lease(1, by: 0, capacity: .nan)))
        #expect(isInvalid(fixture.lease(1, by: 0, capacity: .infinity)))
        #expect(isInvalid(fixture.commit(1, round: 0, by: 0)))
        #expect(isInvalid(fixture.commit(0, round: 1, by: 0)))
        #expect(isInvalid(fixture.commit(1, round: 51, by: 0)))  // the task has 50 rounds
        #expect(isInvalid(fixture.report("nobody", round: 1, state: .ready)))
        #expect(isInvalid(fixture.report("w0", round: 1, state: .failed, message: String(repeating: "x", count: 257))))
        #expect(isInvalid(fixture.report("w0", round: 1, state: .failed, message: "bell\u{7}")))
        #expect(isInvalid(fixture.entry(.commit(RoundCommit(epoch: 1, round: 1, modelHash: ModelHash.none,
                                                            participants: ["stranger"], sampleCount: 1)), by: 0)))
        #expect(isInvalid(fixture.entry(.cancel(reason: String(repeating: "x", count: 300)), by: 10)))
        #expect(state.count == 0)
    }
}
