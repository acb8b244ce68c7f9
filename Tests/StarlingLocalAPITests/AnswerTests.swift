import Foundation
import StarlingLocalAPI
import Testing

struct AnswerTests {
    static func line(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func workerJobsRoundTripWithTheDocumentedKeys() throws {
        let jobs: [WorkerJob] = [
            .wait, .stop,
            .train(TrainJob(epoch: 1, round: 2, model: "/m/global.safetensors", validate: true, deadline: 1_795_784_105)),
            .train(TrainJob(epoch: 1, round: 1, model: nil, validate: false, deadline: 9)),
            .evaluate(EvaluateJob(epoch: 3, round: 4, model: "/m/4.safetensors")),
        ]
        for job in jobs { #expect(try LocalAPI.decode(WorkerJob.self, from: LocalAPI.line(job)) == job) }
        #expect(String(decoding: LocalAPI.line(jobs[3]), as: UTF8.self)
            == #"{"deadline":9,"epoch":1,"job":"train","model":null,"round":1,"validate":false}"# + "\n")
        #expect(String(decoding: LocalAPI.line(WorkerJob.stop), as: UTF8.self) == #"{"job":"stop"}"# + "\n")
    }

    @Test func anUnknownJobIsAClearErrorNotAnotherJob() {
        let unknown = #expect(throws: LocalAPI.Invalid.self) {
            try LocalAPI.decode(WorkerJob.self, from: Self.line(#"{"job":"infer","input":"/x"}"#))
        }
        #expect(unknown?.description == "the peer asks for a job of kind 'infer', which this worker Lib does not know "
            + "(it knows wait, train, evaluate, stop): use the Lib of the peer's version")
        // The answer of an older peer ({"state":…}) has no job at all.
        let old = #expect(throws: LocalAPI.Invalid.self) { try LocalAPI.decode(WorkerJob.self, from: Self.line(#"{"state":"wait"}"#)) }
        #expect(old?.description == #"the peer's answer to worker-poll has no "job""#)
        let short = #expect(throws: LocalAPI.Invalid.self) {
            try LocalAPI.decode(WorkerJob.self, from: Self.line(#"{"job":"evaluate","epoch":1,"round":2}"#))
        }
        #expect(short?.description == #"the peer's evaluate job needs "model""#)
    }

    @Test func errorsCarryATypedCode() throws {
        let refusal = ErrorResponse(.noWorker, "this peer runs no worker edge-a for task abcd")
        #expect(String(decoding: LocalAPI.line(refusal), as: UTF8.self)
            == #"{"code":"no-worker","error":"this peer runs no worker edge-a for task abcd"}"# + "\n")
        #expect(try LocalAPI.decode(ErrorResponse.self, from: LocalAPI.line(refusal)) == refusal)
        // A code from a newer peer, or none, still gives the message.
        let newer = try LocalAPI.decode(ErrorResponse.self, from: Self.line(#"{"error":"busy","code":"overloaded"}"#))
        #expect(newer.error == "busy" && newer.code == nil)
        // The client throws a refusal as such, whatever answer it expected.
        let thrown = #expect(throws: ErrorResponse.self) {
            try LocalClient.decode(OutcomeResponse.self, from: LocalAPI.line(refusal))
        }
        #expect(thrown?.code == .noWorker)
        let unexpected = #expect(throws: LocalClientError.self) {
            try LocalClient.decode(TasksResponse.self, from: Self.line(#"{"members":[]}"#))
        }
        #expect(unexpected?.kind == .badAnswer)
    }

    @Test func aClientWithoutAPeerSaysSo() throws {
        let directory = NSTemporaryDirectory() + "starling-localapi-\(getpid())"
        let client = LocalClient(dataDirectory: directory)
        let missing = #expect(throws: LocalClientError.self) { try client.line(.members) }
        #expect(missing?.kind == .noPeer)
        #expect(missing?.description == "no peer is running with data directory \(directory) (\(directory)/starling.sock not found); "
            + "start one with `starling peer --data-dir \(directory) ...`")
        #expect(LocalClient(socketPath: "/run/x/peer.sock").dataDirectory == "/run/x")
    }
}
