import Foundation
import StarlingLocalAPI
import Testing

struct LocalRequestTests {
    static let identity = WorkerIdentity(task: String(repeating: "ab", count: 32), worker: "edge-a", token: "k")

    static func text(_ request: LocalRequest) -> String { String(decoding: request.line, as: UTF8.self) }

    static func refusal(_ line: String) -> LocalAPI.Invalid? {
        do {
            _ = try LocalAPI.decode(LocalRequest.self, from: Array(line.utf8))
            return nil
        } catch {
            return error
        }
    }

    @Test func everyRequestRoundTrips() throws {
        let requests: [LocalRequest] = [
            .members, .counters, .tasks, .datasetList, .modelList,
            .keyring(.install, key: "AAAA"), .keyring(.list, key: nil), .keyringStatus(id: 7),
            .taskSubmit(spec: "AQID"), .taskCancel(task: "digits", reason: "enough"), .taskCancel(task: "digits", reason: nil),
            .workerPoll(Self.identity),
            .workerSubmit(Self.identity, WorkerUpdate(epoch: 2, round: 3, update: "/w/u.safetensors", numSamples: 40,
                                                      metrics: ["loss": 0.25])),
            .workerFail(Self.identity, WorkerFailure(epoch: 2, round: 3, reason: "no GPU")),
            .workerEvaluated(Self.identity, WorkerScores(epoch: 2, round: 3, metrics: ["accuracy": 0.9])),
            .datasetAdd(name: "d", path: "/d.csv", format: nil), .datasetRemove(name: "d"),
            .datasetAppend(name: "d", path: "/more.npz", format: "npz"), .datasetAppend(name: "d", path: "/more.csv", format: nil),
            .modelImport(name: "m", path: "/m.safetensors"), .modelRemove(name: "m"), .modelExport(model: "digits", out: "/o"),
            .modelVersions(name: "digits-live"), .modelRollback(name: "digits-live", version: 2), .modelRollback(name: "d", version: nil),
            .taskLogs(task: "digits", worker: "edge-a"),
            .infer(InferCall(service: "digits-joint", shape: [1, 2], data: [0.5, -1])),
        ]
        #expect(Set(requests.map(\.command)) == Set(LocalRequest.Command.allCases))
        for request in requests {
            #expect(try LocalAPI.decode(LocalRequest.self, from: request.line) == request, "\(Self.text(request))")
            #expect(request.line.last == UInt8(ascii: "\n") && request.line.dropLast().allSatisfy { $0 != UInt8(ascii: "\n") })
        }
    }

    /// The worker Libs (Python included) send these keys: one flat object, snake case where docs/workers.md says so.
    @Test func workerRequestsAreFlatObjectsWithTheDocumentedKeys() throws {
        let submit = LocalRequest.workerSubmit(Self.identity, WorkerUpdate(epoch: 2, round: 3, update: "/w/u", numSamples: 40,
                                                                           metrics: ["loss": 0.5]))
        #expect(Self.text(submit) == #"{"command":"worker-submit","epoch":2,"metrics":{"loss":0.5},"num_samples":40,"# + "\"round\":3,"
            + #""task":"\#(Self.identity.task)","token":"k","update":"/w/u","worker":"edge-a"}"# + "\n")
        // worker-fail without an epoch (as older workers sent it) and worker-submit without metrics still decode.
        let fail = #"{"command":"worker-fail","task":"t","worker":"w","token":"k","round":4}"#
        #expect(try LocalAPI.decode(LocalRequest.self, from: Array(fail.utf8))
            == .workerFail(WorkerIdentity(task: "t", worker: "w", token: "k"), WorkerFailure(epoch: nil, round: 4, reason: nil)))
    }

    @Test func refusalsNameTheCommandAndTheField() {
        #expect(Self.refusal("members")?.description.hasPrefix("expected one JSON object") == true)
        #expect(Self.refusal("[1]")?.description.hasPrefix("expected one JSON object") == true)
        #expect(Self.refusal(#"{"cmd":"members"}"#)?.description
            == #"expected one JSON object with a "command" string, such as {"command":"members"}"#)
        #expect(Self.refusal(#"{"command":"task-cancel"}"#)?.description == #"task-cancel needs "task""#)
        #expect(Self.refusal(#"{"command":"worker-poll","task":"t","worker":"w"}"#)?.description == #"worker-poll needs "token""#)
        let badSamples = #"{"command":"worker-submit","task":"t","worker":"w","token":"k","epoch":1,"round":1,"update":"/u","num_samples":-3}"#
        #expect(Self.refusal(badSamples)?.description.hasPrefix("expected one JSON object (valid JSON, each number in its field's range)")
            == true)
        let badMetric = #"{"command":"worker-evaluated","task":"t","worker":"w","token":"k","epoch":1,"round":1,"metrics":{"loss":"low"}}"#
        #expect(Self.refusal(badMetric)?.description.hasPrefix(#"worker-evaluated: "metrics.loss" is not"#) == true)
        #expect(Self.refusal(#"{"command":"keyring","operation":"rotate"}"#)?.description
            == #"keyring needs "operation": install, use, remove, list"#)
        #expect(Self.refusal(#"{"command":"keyring"}"#)?.code == .badRequest)
    }

    @Test func anUnknownCommandHasItsOwnCodeAndListsTheKnownOnes() throws {
        let refusal = try #require(Self.refusal(#"{"command":"reboot"}"#))
        #expect(refusal.code == .unknownCommand)
        #expect(refusal.description == "unknown command 'reboot'; known commands: members, counters, keyring, keyring-status, tasks, "
            + "task-submit, task-cancel, worker-poll, worker-submit, worker-fail, worker-evaluated, dataset-add, dataset-append, "
            + "dataset-list, "
            + "dataset-remove, model-list, model-import, model-remove, model-export, model-versions, model-rollback, task-logs, infer")
    }
}
