import Foundation
import StarlingLearning
import StarlingLocalAPI
@testable import StarlingWorker
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The Swift Lib's inference workers (docs/workers.md, "Inference workers"): jobs answered in order,
/// hot swaps, errors that never end the loop, stop and end of stream.
struct ServingLoopTests {
    /// A logreg model of 2 features and 2 classes that always prefers `favourite` (by its bias).
    static func model(favourite: Int, in directory: String, name: String) throws -> String {
        let bias: [Float] = favourite == 0 ? [3, 0] : [0, 3]
        let weights = try ModelWeights(tensors: [
            try Tensor(name: "dense0.weight", shape: [2, 2], values: [0, 0, 0, 0]),
            try Tensor(name: "dense0.bias", shape: [2], values: bias),
        ])
        let path = "\(directory)/\(name)"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(SafeTensors.encode(weights))))
        return path
    }

    static func builtinLoop() -> ServingLoop<BuiltinClassifier> {
        ServingLoop(load: { path in
            guard let bytes = FileManager.default.contents(atPath: path) else { throw WorkerError("cannot read \(path)") }
            return try BuiltinClassifier(kind: .logreg, weights: try SafeTensors.decode([UInt8](bytes)))
        }, predict: { model, batch in
            ServingScores(classCount: model.classCount, values: try model.probabilities(batch.values, count: batch.count))
        })
    }

    static func argmaxes(_ answer: ServeAnswer?) -> [Int] {
        guard case let .scores(_, classes, scores)? = answer else { return [] }
        return stride(from: 0, to: scores.count, by: classes).map { scores[$0 + 1] > scores[$0] ? 1 : 0 }
    }

    @Test func aHotSwapAppliesToTheBatchesAfterItAndAFailedLoadKeepsThePreviousModel() throws {
        let peer = try FakeServingPeer()
        let first = try Self.model(favourite: 0, in: peer.directory, name: "v1.safetensors")
        let second = try Self.model(favourite: 1, in: peer.directory, name: "v2.safetensors")
        var loop = Self.builtinLoop()
        #expect(loop.answer(.infer(batch: 1, version: 1, shape: [1, 2], data: [0, 0]))
            == .failed(batch: 1, error: "no model is loaded (the peer's load failed)"))
        #expect(loop.answer(.load(version: 1, model: first)) == .loaded(version: 1, error: nil))
        #expect(Self.argmaxes(loop.answer(.infer(batch: 2, version: 1, shape: [2, 2], data: [1, 2, 3, 4]))) == [0, 0])
        #expect(loop.answer(.load(version: 2, model: second)) == .loaded(version: 2, error: nil))
        #expect(Self.argmaxes(loop.answer(.infer(batch: 3, version: 2, shape: [1, 2], data: [1, 2]))) == [1])
        guard case let .loaded(3, error?)? = loop.answer(.load(version: 3, model: peer.directory + "/missing")) else {
            Issue.record("a missing model is a load error")
            return
        }
        #expect(error.hasPrefix("cannot load \(peer.directory)/missing"))
        #expect(loop.model?.version == 2)
        #expect(Self.argmaxes(loop.answer(.infer(batch: 4, version: 3, shape: [1, 2], data: [1, 2]))) == [1])
        #expect(loop.answer(.stop) == nil)
    }

    @Test func badBatchesAndBadScoresAreErrorAnswers() throws {
        var loop = ServingLoop<Int>(load: { _ in 1 }, predict: { _, batch in
            if batch.values.first == 9 { throw WorkerError("nine is not served") }
            if batch.values.first == 7 { return ServingScores(classCount: 2, values: [0.5, 0.6]) }
            if batch.values.first == 6 { return ServingScores(classCount: 2, values: [-1, 2]) }
            return ServingScores(classCount: 2, values: Array(repeating: 0.5, count: batch.count * 2))
        })
        _ = loop.answer(.load(version: 1, model: "/m"))
        #expect(loop.answer(.infer(batch: 1, version: 1, shape: [1, 1], data: [9])) == .failed(batch: 1, error: "nine is not served"))
        #expect(loop.answer(.infer(batch: 2, version: 1, shape: [2, 2], data: [1, 2, 3])) == .failed(batch: 2,
            error: "shape [2, 2] is not [examples, features] of the 3 values sent"))
        #expect(loop.answer(.infer(batch: 3, version: 1, shape: [1, 1], data: [7])) == .failed(batch: 3,
            error: "the scores of example 0 sum to 1.1, not 1; class probabilities are needed (serve logits with softmax: true)"))
        #expect(loop.answer(.infer(batch: 4, version: 1, shape: [1, 1], data: [6])) == .failed(batch: 4,
            error: "predict returned a score that is negative or not finite for example 0; class probabilities are needed "
                + "(serve logits with softmax: true)"))
        #expect(loop.answer(.infer(batch: 5, version: 1, shape: [0, 3], data: [])) == .scores(batch: 5, classes: 2, scores: []))
        #expect(loop.answer(.infer(batch: 6, version: 1, shape: [1, 1], data: [1])) == .scores(batch: 6, classes: 2, scores: [0.5, 0.5]))
    }

    @Test func softmaxTurnsLogitsIntoProbabilities() throws {
        var loop = ServingLoop<Int>(softmax: true, load: { _ in 1 }, predict: { _, _ in ServingScores(classCount: 2, values: [1000, 1000, 0, 0]) })
        _ = loop.answer(.load(version: 1, model: "/m"))
        #expect(loop.answer(.infer(batch: 1, version: 1, shape: [2, 1], data: [0, 0])) == .scores(batch: 1, classes: 2, scores: [0.5, 0.5, 0.5, 0.5]))
    }

    @Test func theLoopAnswersLinesWrittenAheadInOrderAndEndsAtStopOrEndOfStream() throws {
        let peer = try FakeServingPeer()
        let first = try Self.model(favourite: 0, in: peer.directory, name: "v1.safetensors")
        let second = try Self.model(favourite: 1, in: peer.directory, name: "v2.safetensors")
        for ending in [ServeJob.stop, nil] {
            var pair: [Int32] = [0, 0]
            #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
            let worker = ServeConnection(descriptor: pair[0]), peerSide = ServeConnection(descriptor: pair[1])
            let jobs: [ServeJob] = [.load(version: 1, model: first), .infer(batch: 1, version: 1, shape: [1, 2], data: [0, 0]),
                                    .load(version: 2, model: second), .infer(batch: 2, version: 2, shape: [1, 2], data: [0, 0])]
            try peerSide.write((jobs + (ending.map { [$0] } ?? [])).flatMap(\.line))
            if ending == nil { shutdown(pair[1], Int32(SHUT_WR)) }
            var loop = Self.builtinLoop()
            try loop.run(worker)
            var answers: [ServeAnswer] = []
            while answers.count < 4, let line = try peerSide.readLine() { answers.append(try LocalAPI.decode(ServeAnswer.self, from: line)) }
            #expect(answers.count == 4)
            #expect(answers.first == .loaded(version: 1, error: nil) && answers[2] == .loaded(version: 2, error: nil))
            #expect(Self.argmaxes(answers[1]) == [0] && Self.argmaxes(answers[3]) == [1])
        }
    }

    @Test func serveSaysHelloThenServesTheBuiltinModelUntilStop() throws {
        let peer = try FakeServingPeer()
        let path = try Self.model(favourite: 1, in: peer.directory, name: "v1.safetensors")
        let received = LockedLines()
        let done = peer.accept { connection in
            if let hello = try connection.readLine() { received.append(hello) }
            try connection.write(LocalAPI.line(ServeWelcome(role: "edge", service: "digits")))
            try connection.write(ServeJob.load(version: 1, model: path).line)
            try connection.write(ServeJob.infer(batch: 7, version: 1, shape: [1, 2], data: [0.5, 0.5]).line)
            for _ in 0..<2 { if let line = try connection.readLine() { received.append(line) } }
            try connection.write(ServeJob.stop.line)
        }
        let client = WorkerClient(context: try WorkerContext.fromEnvironment(peer.environment()))
        #expect(client.context.service == "digits" && client.context.isServing && client.context.datasetPath == "")
        try client.serve(load: { path in
            try BuiltinClassifier(kind: .logreg, weights: try SafeTensors.decode([UInt8](FileManager.default.contents(atPath: path)!)))
        }, predict: { model, batch in
            ServingScores(classCount: 2, values: try model.probabilities(batch.values, count: batch.count))
        })
        done.wait()
        let lines = received.lines.map { String(decoding: $0, as: UTF8.self) }
        #expect(lines.first == #"{"request":"worker-serve","task":"\#(String(repeating: "ab", count: 32))","token":"secret","worker":"edge-worker"}"#)
        #expect(lines.dropFirst().first == #"{"loaded":1}"#)
        let answer = try LocalAPI.decode(ServeAnswer.self, from: Array((lines.last ?? "").utf8))
        guard case let .scores(batch, classes, scores) = answer else { Issue.record("not scores: \(answer)"); return }
        #expect(batch == 7 && classes == 2 && (0.04..<0.05).contains(scores[0]), "\(scores)")
    }

    @Test func aNoWorkerRefusalEndsServingQuietlyAndAnotherIsAnError() throws {
        let peer = try FakeServingPeer()
        for (answer, fails) in [(ErrorResponse(.noWorker, "this peer runs no worker edge-worker"), false),
                                (ErrorResponse(.wrongToken, "wrong token"), true)] {
            let done = peer.accept { connection in
                _ = try connection.readLine()
                try connection.write(LocalAPI.line(answer))
            }
            let client = WorkerClient(context: try WorkerContext.fromEnvironment(peer.environment(role: "cloud")))
            let serve = { try client.serve(load: { $0 }, predict: { _, _ in ServingScores(classCount: 1, values: []) }) }
            if fails {
                #expect(throws: WorkerError.self) { try serve() }
            } else {
                try serve()
            }
            done.wait()
        }
        let trainer = WorkerClient(context: try WorkerContext.fromEnvironment(peer.environment(role: "train").merging(
            ["STARLING_DATASET_PATH": "/d.csv"]) { $1 }))
        #expect(throws: WorkerError.self) { try trainer.serve(load: { $0 }, predict: { _, _ in ServingScores(classCount: 1, values: []) }) }
    }
}

/// Lines a fake peer's thread records for the test to read after it is done.
final class LockedLines: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [[UInt8]] = []
    func append(_ line: [UInt8]) { lock.withLock { stored.append(line) } }
    var lines: [[UInt8]] { lock.withLock { stored } }
}
