import StarlingCrypto
@testable import StarlingTasks
import StarlingTestSupport
import StarlingTrust
import StarlingWire
import Testing

/// Every entry kind has one encoding; mutated bytes never trap the decoder.
@Suite struct EncodingTests {
    let fixture = TaskFixture()

    var samples: [TaskEntry] {
        let base = CommitRef(epoch: 1, round: 3, modelHash: TaskFixture.model(3))
        return [
            fixture.lease(1, by: 0),
            fixture.lease(2, by: 1, base: base, renewal: 7, capacity: 12.5),
            fixture.announce(2, round: 4, by: 1),
            fixture.entry(.commit(RoundCommit(epoch: 2, round: 4, modelHash: TaskFixture.model(4), participants: ["w2", "w0", "w0"],
                                              sampleCount: 1_234, metrics: [try! Metric(name: "loss", value: -0.0),
                                                                            try! Metric(name: "accuracy", value: 0.93)])), by: 1),
            fixture.entry(.report(WorkerReport(worker: "w1", epoch: 2, round: 4, state: .submitted, message: "ok",
                                               update: UpdateRef(hash: TaskFixture.model(40), sampleCount: 300))), by: 20),
            fixture.report("w3", round: 4, state: .failed, message: "out of memory"),
            fixture.entry(.cancel(reason: ""), by: 10),
            fixture.entry(.complete(base), by: 0),
            fixture.entry(.replicated(base), by: 2),
            fixture.entry(.fail(TaskFailure(epoch: 2, round: 5, reason: "round 5 had 1 of the 2 updates it needs; w1 on edge-1: failed")),
                          by: 1),
        ]
    }

    @Test func everyKindRoundTrips() throws {
        for entry in samples {
            let bytes = entry.wireBytes
            let decoded = try TaskEntry(wireBytes: bytes)
            #expect(decoded.body == entry.body)
            #expect(decoded.hash == entry.hash)
            #expect(decoded.wireBytes == bytes)
            #expect(entry.hash == ContentHash.of(bytes))
        }
        // Other kinds' entries are JointInferenceEntryTests' and IncrementalEntryTests' (this fixture is a FederatedTask).
        #expect(Set(samples.map(\.kind)) == Set(TaskEntryKind.allCases).subtracting([.deploy, .jobStep, .stageResult, .rollback]))
        var state = fixture.state()
        for entry in samples { #expect(state.merge(entry, roles: fixture.lookup, verifier: fixture.cache) == .added) }
        let decoded = try TaskState(wireBytes: state.wireBytes)
        #expect(decoded == state)
        #expect(decoded.view == state.view)
    }

    @Test func setsAreSortedAndNegativeZeroIsZero() throws {
        guard case let .commit(commit)? = samples[3].body.federated else { Issue.record("not a commit"); return }
        #expect(commit.participants == ["w0", "w2"])
        #expect(commit.metrics.map(\.name) == ["accuracy", "loss"])
        #expect(commit.metrics[1].value.sign == .plus)
        #expect(throws: TaskRejection.self) { try Metric(name: "loss", value: .nan) }
        #expect(try Metric.list(["loss": 0.25, "accuracy": 0.9]).map(\.name) == ["accuracy", "loss"])
        #expect(throws: TaskRejection.self) { try Metric.list(["loss": .infinity]) }
    }

    @Test func nonCanonicalBytesAreRefused() throws {
        let entry = fixture.lease(1, by: 0)
        #expect(throws: WireError.self) { try TaskEntry(wireBytes: entry.wireBytes + [0]) }
        var unknownKind = entry.wireBytes
        unknownKind[64] = 99  // the kind byte follows the task id and the author
        #expect(throws: WireError.self) { try TaskEntry(wireBytes: unknownKind) }
        // A state whose entries are out of order.
        var state = fixture.state()
        for entry in samples { _ = state.merge(entry, roles: fixture.lookup, verifier: fixture.cache) }
        var writer = WireWriter()
        writer.write(state.signedSpec)
        writer.writeList(state.entries.reversed())
        #expect(throws: WireError.self) { try TaskState(wireBytes: writer.bytes) }
    }

    @Test func mutatedBytesNeverTrapAndWhatDecodesReencodesTheSame() throws {
        var random = SeededRandom(seed: 0x5EED)
        var state = fixture.state()
        for entry in samples { _ = state.merge(entry, roles: fixture.lookup, verifier: fixture.cache) }
        for bytes in samples.map(\.wireBytes) {
            for _ in 0..<1_500 {
                let mutated = mutate(bytes, using: &random)
                if let decoded = try? TaskEntry(wireBytes: mutated) { #expect(decoded.wireBytes == mutated) }
            }
        }
        let stateBytes = state.wireBytes
        for _ in 0..<1_500 {
            let mutated = mutate(stateBytes, using: &random)
            if let decoded = try? TaskState(wireBytes: mutated) { #expect(decoded.wireBytes == mutated) }
        }
        let specBytes = fixture.signedSpec.wireBytes
        for _ in 0..<1_500 {
            let mutated = mutate(specBytes, using: &random)
            if let decoded = try? SignedTaskSpec(wireBytes: mutated) { #expect(decoded.wireBytes == mutated) }
        }
    }
}
