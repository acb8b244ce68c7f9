import StarlingCrypto
import StarlingPeer
import StarlingTasks
import Testing

/// A kind with no program in this build: a peer refuses to submit it, and a peer that learns it
/// (from a newer peer, or its own store) holds and spreads it, shows it `unsupported`, and never
/// claims its lease.
@Suite struct UnsupportedKindTests {
    static let spec: TaskSpec = {
        let script = WorkerSpec(script: ScriptSpec(bootFile: .builtin(.logreg)))
        let trigger = Trigger(condition: TriggerCondition(metric: "num_of_samples", comparison: .greater, threshold: 100))
        return TaskSpec(name: "learn", kind: .incrementalLearningJob(IncrementalLearningJobSpec(
            initialModel: ModelRef(name: "start"), dataset: IncrementalDataset(name: "digits"),
            trainSpec: IncrementalTrainSpec(workerSpec: script, trigger: trigger), evalSpec: IncrementalEvalSpec(workerSpec: script),
            deploySpec: IncrementalDeploySpec(model: ModelRef(name: "deployed"), workerSpec: script, trigger: trigger))))
    }()

    @Test func submittingAKindWithNoProgramIsRefusedNamingIt() {
        var cluster = PeerCluster(count: 2)
        let answer = cluster.control(.submitTask(specBytes: Self.spec.wireBytes), at: 0)
        #expect(!answer.ok)
        #expect(answer.message.contains("no program for the kind IncrementalLearningJob") && answer.message.contains("FederatedTask"),
                "\(answer.message)")
        cluster.advance(by: .seconds(10))
        #expect(cluster.peers.allSatisfy { $0.tasks.isEmpty }, "nothing is held or gossiped")
    }

    @Test func aLearntTaskOfAKindWithNoProgramIsSpreadShownUnsupportedAndNeverClaimed() throws {
        // Peer 0's key (the harness derives peer i's key from the byte i + 1) signs the spec, as a
        // newer peer that runs the kind would have; peer 0 holds it from its store.
        let submitter = try SigningKey(seed: [UInt8](repeating: 1, count: 32))
        let signed = try SignedTaskSpec.sign(Self.spec, submittedAt: PeerCluster.unixAtStart, with: submitter)
        var cluster = PeerCluster(count: 3, tasks: { $0 == 0 ? [TaskState(spec: signed)] : [] })
        cluster.advance(by: .seconds(60))
        for (index, peer) in cluster.peers.enumerated() {
            let summary = peer.tasks.first { $0.id == signed.id }
            #expect(summary?.phase == TaskSummary.unsupported, "peer \(index): \(String(describing: summary?.phase))")
            #expect(summary?.coordinator == nil && summary?.entries == 0, "peer \(index) claimed it")
        }
    }
}
