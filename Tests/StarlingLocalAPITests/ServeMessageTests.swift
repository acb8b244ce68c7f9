import Foundation
import StarlingLocalAPI
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The inference worker's connection (docs/workers.md, "Inference workers"): the lines exactly as
/// the peer and the Python Lib write them.
struct ServeMessageTests {
    static let identity = WorkerIdentity(task: String(repeating: "ab", count: 32), worker: "edge-a", token: "k")

    static func text(_ line: [UInt8]) -> String { String(decoding: line, as: UTF8.self) }

    static func decoded<Value: Decodable>(_ type: Value.Type, _ line: String) throws -> Value {
        try LocalAPI.decode(type, from: Array(line.utf8))
    }

    @Test func theHelloIsKeyedRequestAndCarriesTheIdentity() throws {
        let hello = ServeHello(Self.identity)
        #expect(Self.text(hello.line) == #"{"request":"worker-serve","task":"\#(Self.identity.task)","token":"k","worker":"edge-a"}"# + "\n")
        #expect(try LocalAPI.decode(ServeHello.self, from: hello.line) == hello)
        #expect(throws: LocalAPI.Invalid(#"expected {"request":"worker-serve","task":…,"worker":…,"token":…}"#)) {
            try Self.decoded(ServeHello.self, #"{"command":"worker-poll","task":"t","worker":"w","token":"k"}"#)
        }
        #expect(throws: LocalAPI.Invalid(#"worker-serve needs "token""#)) {
            try Self.decoded(ServeHello.self, #"{"request":"worker-serve","task":"t","worker":"w"}"#)
        }
    }

    @Test func theWelcomeAndARefusal() throws {
        #expect(Self.text(LocalAPI.line(ServeWelcome(role: "edge", service: "digits"))) == #"{"ok":true,"role":"edge","service":"digits"}"# + "\n")
        #expect(try Self.decoded(ServeWelcome.self, #"{"ok":true,"role":"cloud","service":"s"}"#) == ServeWelcome(role: "cloud", service: "s"))
        let refusal = try Self.decoded(ErrorResponse.self, #"{"error":"this peer runs no worker","code":"no-worker"}"#)
        #expect(refusal.code == .noWorker)
    }

    @Test func jobsAreKeyedJob() throws {
        let load = ServeJob.load(version: 3, model: "/m/v3.safetensors")
        #expect(Self.text(load.line) == #"{"job":"load","model":"/m/v3.safetensors","version":3}"# + "\n")
        let infer = ServeJob.infer(batch: 9, version: 3, shape: [2, 2], data: [0.5, 1, -2, 0.1])
        // The values as base64 of their little-endian float32 bytes.
        #expect(Self.text(infer.line) == #"{"batch":9,"data_f32":"AAAAPwAAgD8AAADAzczMPQ==","job":"infer","shape":[2,2],"version":3}"# + "\n")
        #expect(Self.text(infer.line) == Self.text(LocalAPI.line(infer)), "written directly, the same as the encoder writes")
        #expect(throws: LocalAPI.Invalid.self) {
            try Self.decoded(ServeJob.self, #"{"job":"infer","batch":1,"version":1,"shape":[1,1],"data_f32":"AAA"}"#)
        }
        #expect(try LocalAPI.decode(ServeJob.self, from: infer.line) == infer)
        let awkward = ServeJob.infer(batch: 1, version: 1, shape: [1, 4], data: [1e-30, -3.4028235e38, .leastNonzeroMagnitude, 0.1 + 0.2])
        #expect(try LocalAPI.decode(ServeJob.self, from: awkward.line) == awkward, "\(Self.text(awkward.line))")
        #expect(Self.text(ServeJob.stop.line) == #"{"job":"stop"}"# + "\n")
        for job in [load, infer, .stop] { #expect(try LocalAPI.decode(ServeJob.self, from: job.line) == job) }
        // Numbers as Python writes them (float64 reprs, integers) read as float32.
        #expect(try Self.decoded(ServeJob.self, #"{"job":"infer","batch":1,"version":1,"shape":[1,2],"data":[0.10000000149011612,2]}"#)
            == .infer(batch: 1, version: 1, shape: [1, 2], data: [0.1, 2]))
    }

    @Test func aJobOfAnUnknownKindOrMissingAFieldIsNamed() {
        #expect(throws: LocalAPI.Invalid("the peer sends a serving job of kind 'explain', which this worker Lib does not know "
            + "(it knows load, infer, stop): use the Lib of the peer's version")) {
            try Self.decoded(ServeJob.self, #"{"job":"explain"}"#)
        }
        #expect(throws: LocalAPI.Invalid(#"the peer's load job needs "model""#)) { try Self.decoded(ServeJob.self, #"{"job":"load","version":1}"#) }
        #expect(throws: LocalAPI.Invalid(#"the peer's serving line has no "job""#)) { try Self.decoded(ServeJob.self, #"{"batch":1}"#) }
    }

    @Test func answers() throws {
        let answers: [(ServeAnswer, String)] = [
            (.loaded(version: 3, error: nil), #"{"loaded":3}"#),
            (.loaded(version: 4, error: "cannot load"), #"{"error":"cannot load","loaded":4}"#),
            (.scores(batch: 9, classes: 2, scores: [0.25, 0.75]), #"{"batch":9,"classes":2,"scores_f32":"AACAPgAAQD8="}"#),
            (.failed(batch: 9, error: "bad shape"), #"{"batch":9,"error":"bad shape"}"#),
        ]
        for (answer, line) in answers {
            #expect(Self.text(answer.line) == line + "\n")
            #expect(try Self.decoded(ServeAnswer.self, line) == answer)
        }
        // Scores as JSON numbers (a worker of its own making) are read too.
        #expect(try Self.decoded(ServeAnswer.self, #"{"batch":9,"classes":2,"scores":[0.25,0.75]}"#)
            == .scores(batch: 9, classes: 2, scores: [0.25, 0.75]))
        #expect(throws: LocalAPI.Invalid(#"an inference worker's answer has neither "loaded" nor "batch""#)) {
            try Self.decoded(ServeAnswer.self, #"{"ok":true}"#)
        }
        #expect(throws: LocalAPI.Invalid(#"an inference worker's answer needs "classes""#)) {
            try Self.decoded(ServeAnswer.self, #"{"batch":1,"scores":[1]}"#)
        }
    }

    @Test func aConnectionReadsLinesWrittenTogetherApartAndKeepsTheRest() throws {
        var pair: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        let connection = ServeConnection(descriptor: pair[0])
        let peer = pair[1]
        let bytes = Array("{\"job\":\"stop\"}\n{\"a\":1}\n{\"b\"".utf8)
        #expect(send(peer, bytes, bytes.count, 0) == bytes.count)
        #expect(try connection.readLine().map(Self.text) == #"{"job":"stop"}"#)
        #expect(try connection.readLine().map(Self.text) == #"{"a":1}"#)
        let rest = Array(":2}\n".utf8)
        #expect(send(peer, rest, rest.count, 0) == rest.count)
        #expect(try connection.readLine().map(Self.text) == #"{"b":2}"#)
        try connection.write(Array("answer\n".utf8))
        var received = [UInt8](repeating: 0, count: 16)
        #expect(recv(peer, &received, 16, 0) == 7)
        close(peer)
        #expect(try connection.readLine() == nil)
    }
}
