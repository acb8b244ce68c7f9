import Foundation
import StarlingCrypto
import StarlingLearning
import StarlingMembership
@testable import StarlingPeer
@testable import StarlingRuntime
import StarlingStore
import StarlingTasks
import StarlingTrust
import Testing

/// `model-export TASK` writes the task's last committed model as this peer's task state knows it:
/// fetched first when the peer lacks it, or refused saying which round the peer holds and which
/// one the task committed; never an older round in silence (defect 7).
@Suite(.serialized) struct ModelExportTests {
    static let task = TaskID(hash: ContentHash.of(Array("digits-logreg".utf8)))

    static func round(_ number: UInt64, model: ContentHash, coordinator: NodeID, replicatedBy: [NodeID] = []) -> TaskSummary.Round {
        TaskSummary.Round(round: number, epoch: 1, coordinator: coordinator, modelHash: model, participants: ["w0"],
                          replicatedBy: replicatedBy)
    }

    static func summary(phase: String, rounds: UInt64, committed: [TaskSummary.Round], announced: UInt64? = nil,
                        participants: [NodeID] = []) -> TaskSummary {
        TaskSummary(
            id: task, name: "digits-logreg", kind: "FederatedTask", phase: phase, submitter: committed[0].coordinator,
            submittedAt: 1, leaseValid: true, round: committed.last?.round ?? 0, rounds: rounds, announcedRound: announced,
            participants: participants.enumerated().map { TaskSummary.Participant(worker: "w\($0.offset)", node: $0.element) },
            committed: committed, superseded: 0, stale: 0, entries: 0, digest: ContentHash.of([]))
    }

    /// The model of round `round`, as a coordinator makes it.
    static func model(_ round: UInt64) throws -> [UInt8] {
        SafeTensors.encode(try ModelFiles.weights(Float(round), metadata: ModelMetadata.forModel(
            task: task, name: "digits-logreg", epoch: 1, round: round, metrics: ["loss": 1 / Double(round)])))
    }

    @Test func aPeerThatMissedTheLastCommitFetchesItOrSaysWhichRoundItHolds() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        let coordinator = try ModelPeer.start(on: loop, seed: 1)
        defer { coordinator.remove() }
        let edge = try ModelPeer.start(on: loop, seed: 2)
        defer { edge.remove() }
        // The coordinator made rounds 1-3; the edge fetched rounds 1 and 2 (as bases) and missed 3.
        var hashes: [ContentHash] = []
        for round in UInt64(1)...3 { hashes.append(try coordinator.blobs.importBytes(try Self.model(round))) }
        for round in UInt64(1)...2 {
            _ = try edge.blobs.importBytes(try Self.model(round))
            _ = try edge.store.saveModel(ModelRecord(hash: hashes[Int(round) - 1].hex, task: Self.task.text, taskName: "digits-logreg",
                                                     round: round, epoch: 1, metrics: [:], bytes: 1, parameters: 9, savedAt: round),
                                         keepPerTask: 20)
        }
        edge.script.members.append(coordinator.member())
        edge.script.tasks = [Self.summary(phase: "completed", rounds: 3, committed: (1...3).map {
            Self.round(UInt64($0), model: hashes[$0 - 1], coordinator: coordinator.node)
        })]

        let out = "\(edge.directory)/final.safetensors"
        let exported = try edge.request(["command": "model-export", "model": "digits-logreg", "out": out], on: loop)
        #expect(exported["ok"] as? Bool == true, "\(exported)")
        #expect(exported["message"] as? String == "model of digits-logreg round 3 of 3, the last (the task completed) "
            + "written to \(out) (fetched from peer-1: this peer held round 2)")
        #expect(exported["round"] as? Int == 3 && exported["fetched"] as? Bool == true)
        #expect(try SafeTensors.decode([UInt8](Data(contentsOf: URL(fileURLWithPath: out)))).metadata["starling.round"] == "3")
        #expect(try edge.store.models().first?.round == 3, "the fetched model is recorded")

        // Another task whose last round nobody live holds: refused, naming both rounds.
        var dead = coordinator.member(state: .dead)
        dead.name = "cloud"
        edge.script.members[1] = dead
        let missing = ContentHash.of(Array("round 4".utf8))
        edge.script.tasks = [Self.summary(phase: "running", rounds: 10, committed: (1...4).map {
            Self.round(UInt64($0), model: $0 == 4 ? missing : hashes[$0 - 1], coordinator: coordinator.node)
        })]
        let refused = try edge.request(["command": "model-export", "model": "digits-logreg", "out": out], on: loop)
        #expect(refused["ok"] as? Bool == false)
        #expect(refused["message"] as? String == "this peer holds round 3 of task digits-logreg, but the task committed round 4 "
            + "of 10 (the task is still running: later rounds will follow) with model \(missing.hex.prefix(16)), which is not "
            + "here: no live peer is known to hold it (not reachable: cloud (dead))")

        // A live source that does not hold it: the fetch's failure is given.
        edge.script.members[1] = coordinator.member()
        let failed = try edge.request(["command": "model-export", "model": "digits-logreg", "out": out], on: loop)
        let message = failed["message"] as? String ?? ""
        #expect(failed["ok"] as? Bool == false)
        #expect(message.hasPrefix("this peer holds round 3 of task digits-logreg, but the task committed round 4 of 10")
            && message.contains("fetching it from peer-1 failed: "), "\(message)")
    }

    @Test func aRunningTasksLatestRoundIsExportedAsSuch() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        let peer = try ModelPeer.start(on: loop, seed: 1)
        defer { peer.remove() }
        let hash = try peer.blobs.importBytes(try Self.model(2))
        peer.script.tasks = [Self.summary(phase: "running", rounds: 40, committed: [
            Self.round(1, model: ContentHash.of([1]), coordinator: peer.node), Self.round(2, model: hash, coordinator: peer.node),
        ])]
        let out = "\(peer.directory)/latest.safetensors"
        let answer = try peer.request(["command": "model-export", "model": String(Self.task.text.prefix(12)), "out": out], on: loop)
        #expect(answer["message"] as? String == "model of digits-logreg round 2 of 40 (the task is still running: later rounds "
            + "will follow) written to \(out)")
        #expect(answer["fetched"] as? Bool == false)
        let none = try peer.request(["command": "model-export", "model": "no-such-task", "out": out], on: loop)
        #expect(none["message"] as? String == "no task and no model no-such-task is known on this peer (starling task list, starling model list)")
    }

    @Test func sourcesAreTheCoordinatorThenTheAcknowledgersThenTheParticipantsOfALaterRound() throws {
        func node(_ seed: UInt8) throws -> NodeID { NodeID(try SigningKey(seed: Array(repeating: seed, count: 32)).publicKey) }
        func member(_ seed: UInt8, _ state: MemberState, local: Bool = false) throws -> MemberView {
            MemberView(name: "n\(seed)", node: try node(seed), address: PeerAddress(host: "127.0.0.\(seed)", port: 7946), state: state,
                       incarnation: 1, tags: [:], isLocal: local)
        }
        let model = ContentHash.of([7])
        let committed = [Self.round(1, model: model, coordinator: try node(1), replicatedBy: [try node(2), try node(3), try node(9)])]
        let members = [try member(1, .alive), try member(2, .dead), try member(3, .suspect), try member(4, .alive),
                       try member(5, .alive, local: true)]
        let done = try ModelExportPlan(task: Self.summary(phase: "completed", rounds: 1, committed: committed), members: members)
        #expect(done.sourceNames == ["n1", "n3"])
        #expect(done.sources.map(\.address) == [PeerAddress(host: "127.0.0.1", port: 7946), PeerAddress(host: "127.0.0.3", port: 7946)])
        #expect(done.unreachable == ["n2 (dead)", try node(9).short])
        // Round 2 announced: its participants train from round 1's model (this peer left out).
        let running = try ModelExportPlan(task: Self.summary(phase: "running", rounds: 5, committed: committed, announced: 2,
                                                             participants: [try node(4), try node(5), try node(1)]), members: members)
        #expect(running.sourceNames == ["n1", "n3", "n4"])
        let early = #expect(throws: RuntimeError.self) {
            try ModelExportPlan(task: TaskSummary(id: Self.task, name: "t", kind: "FederatedTask", phase: "running", submitter: try node(1),
                                                  submittedAt: 1, leaseValid: true, round: 0, rounds: 5, participants: [],
                                                  committed: [], superseded: 0, stale: 0, entries: 0, digest: model), members: members)
        }
        #expect(early?.description == "task t has committed no round yet (it is running); there is no model to export")
    }
}
