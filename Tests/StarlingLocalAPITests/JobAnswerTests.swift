import Foundation
import StarlingLocalAPI
import Testing

/// An IncrementalLearningJob's report and `model-versions` answer: what `task status --json` and
/// `model versions --json` print (docs/cli.md).
struct JobAnswerTests {
    static let initial = JobReport.Version(version: 1, model: String(repeating: "1", count: 64), parent: 0, cycle: 0, trainSamples: 0,
                                           evalSamples: 0, deployedAt: 1_795_788_900, metrics: nil, perClass: nil)
    static let second = JobReport.Version(
        version: 2, model: String(repeating: "2", count: 64), parent: 1, cycle: 1, trainSamples: 400, evalSamples: 80, deployedAt: nil,
        metrics: ["accuracy": 0.93, "accuracy_delta": 0.05, "f1": 0.91, "f1_delta": -0.01],
        perClass: ["f1": [1, 0.82], "f1_delta": [0, -0.02]])

    static func job() -> JobReport {
        JobReport(cycle: 2, stage: "train", status: "waiting", since: 1_795_789_000, currentVersion: 2, versions: [initial, second],
                  history: [JobReport.Step(round: 1, cycle: 0, stage: "deploy", status: "completed", at: 1_795_788_900,
                                           text: "deployed version 1: the initial model (111111111111)")],
                  steps: 5, trainCheck: "num_of_samples = 120, not num_of_samples > 500", waitingFor: nil, deploysHere: true,
                  servedVersion: 2, servingFailure: nil, dataset: "incoming", deployModelName: "digits-live")
    }

    @Test func aTaskWithAJobRoundTripsWithTheDocumentedKeys() throws {
        var task = TaskReport(id: String(repeating: "a", count: 64), name: "digits-incremental", kind: "IncrementalLearningJob",
                              phase: "running", submitter: String(repeating: "c", count: 64), submittedAt: 1_795_788_893)
        task.job = Self.job()
        let line = LocalAPI.line(TasksResponse(tasks: [task]))
        #expect(try LocalAPI.decode(TasksResponse.self, from: line).tasks == [task])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
        let job = try #require((object["tasks"] as? [[String: Any]])?.first?["job"] as? [String: Any])
        #expect(job["currentVersion"] as? Int == 2 && job["stage"] as? String == "train" && job["status"] as? String == "waiting")
        #expect(job["trainCheck"] as? String == "num_of_samples = 120, not num_of_samples > 500")
        #expect(job["deploysHere"] as? Bool == true && job["servedVersion"] as? Int == 2)
        // A field with no value is left out, as everywhere in the local API.
        #expect(job["waitingFor"] == nil && job["servingFailure"] == nil)
        let versions = try #require(job["versions"] as? [[String: Any]])
        #expect(versions[0]["metrics"] == nil && versions[0]["deployedAt"] as? Int == 1_795_788_900)
        #expect(versions[1]["trainSamples"] as? Int == 400 && versions[1]["evalSamples"] as? Int == 80 && versions[1]["deployedAt"] == nil)
        #expect((versions[1]["metrics"] as? [String: Double])?["accuracy_delta"] == 0.05)
        #expect((versions[1]["perClass"] as? [String: [Double]])?["f1"] == [1, 0.82])
        let step = try #require((job["history"] as? [[String: Any]])?.first)
        #expect(step["round"] as? Int == 1 && step["text"] as? String == "deployed version 1: the initial model (111111111111)")
        // A task of another kind has no job key.
        task.job = nil
        #expect(!String(decoding: LocalAPI.line(task), as: UTF8.self).contains("\"job\""))
    }

    @Test func modelVersionsRoundTrips() throws {
        let answer = ModelVersionsResponse(task: String(repeating: "a", count: 64), name: "digits-incremental",
                                           deployModelName: "digits-live", currentVersion: 2, versions: [Self.initial, Self.second])
        #expect(try LocalAPI.decode(ModelVersionsResponse.self, from: LocalAPI.line(answer)) == answer)
        #expect(Self.job().current == Self.second)
        let none = ModelVersionsResponse(task: "t", name: "n", deployModelName: "m", currentVersion: nil, versions: [])
        #expect(String(decoding: LocalAPI.line(none), as: UTF8.self)
            == #"{"deployModelName":"m","name":"n","task":"t","versions":[]}"# + "\n")
    }

    @Test func modelRollbackSendsTheVersionAsANumberAndLeavesItOutForTheParent() throws {
        #expect(String(decoding: LocalRequest.modelRollback(name: "digits-live", version: 1).line, as: UTF8.self)
            == #"{"command":"model-rollback","name":"digits-live","version":1}"# + "\n")
        #expect(String(decoding: LocalRequest.modelRollback(name: "digits-live", version: nil).line, as: UTF8.self)
            == #"{"command":"model-rollback","name":"digits-live"}"# + "\n")
        let bad = #expect(throws: LocalAPI.Invalid.self) {
            try LocalAPI.decode(LocalRequest.self, from: Array(#"{"command":"model-rollback","name":"x","version":"two"}"#.utf8))
        }
        #expect(bad?.description.contains("version") == true, "\(bad?.description ?? "")")
        let missing = #expect(throws: LocalAPI.Invalid.self) {
            try LocalAPI.decode(LocalRequest.self, from: Array(#"{"command":"model-versions"}"#.utf8))
        }
        #expect(missing?.description == #"model-versions needs "name""#)
    }
}
