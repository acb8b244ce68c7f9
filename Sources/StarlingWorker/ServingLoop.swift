import Foundation
import StarlingLearning
import StarlingLocalAPI

/// The examples of one `infer` job as a predict function reads them: `count` examples of
/// `featureCount` float32 values each, row-major.
public struct ServingBatch: Sendable, Equatable {
    public let count: Int
    public let featureCount: Int
    public let values: [Float]

    public init(count: Int, featureCount: Int, values: [Float]) {
        precondition(count >= 0 && featureCount >= 1 && values.count == count * featureCount, "a batch holds count × featureCount values")
        self.count = count
        self.featureCount = featureCount
        self.values = values
    }
}

/// What a predict function returns for a batch: per example `classCount` scores, row-major;
/// class probabilities, or logits when the loop applies the softmax.
public struct ServingScores: Sendable, Equatable {
    public let classCount: Int
    public let values: [Float]

    public init(classCount: Int, values: [Float]) {
        self.classCount = classCount
        self.values = values
    }
}

/// An inference worker's answers (docs/workers.md, "Inference workers"): each `ServeJob` of the
/// peer, in order, gets its `ServeAnswer`. A model that fails to load leaves the previous one
/// served; a batch the predict function throws on, or answers with scores that are not class
/// probabilities, gets an error answer; neither ends the loop. Only `stop` and the end of the
/// stream do.
public struct ServingLoop<Model> {
    let load: (String) throws -> Model
    let predict: (Model, ServingBatch) throws -> ServingScores
    /// Turn the predict function's logits into probabilities.
    let softmax: Bool
    /// The model served, and the version the peer gave it.
    public private(set) var model: (version: UInt64, value: Model)?

    public init(softmax: Bool = false, load: @escaping (String) throws -> Model,
                predict: @escaping (Model, ServingBatch) throws -> ServingScores) {
        self.softmax = softmax
        self.load = load
        self.predict = predict
    }

    /// Answers jobs from `connection` until the peer says stop or closes it; an answer that cannot be
    /// written, a line longer than `LocalAPILimits.serveLineBytesMax` or one this Lib cannot read
    /// is thrown (the peer restarts a worker that dies).
    public mutating func run(_ connection: ServeConnection) throws {
        while let line = try connection.readLine() {
            let job: ServeJob
            do {
                job = try LocalAPI.decode(ServeJob.self, from: line)
            } catch {
                throw WorkerError("cannot read the peer's serving job: \(error)")
            }
            guard let answer = answer(job) else { return }
            try connection.write(answer.line)
        }
    }

    /// The answer to one job; nil for `stop`.
    public mutating func answer(_ job: ServeJob) -> ServeAnswer? {
        switch job {
        case .stop:
            return nil
        case let .load(version, path):
            do {
                model = (version, try load(path))
                return .loaded(version: version, error: nil)
            } catch {
                return .loaded(version: version, error: "cannot load \(path): \(error)")
            }
        case let .infer(batch, _, shape, data):
            do {
                let scores = try score(shape: shape, data: data)
                return .scores(batch: batch, classes: scores.classCount, scores: scores.values)
            } catch {
                return .failed(batch: batch, error: "\(error)")
            }
        }
    }

    /// The batch's class probabilities under the model served (after a failed load, the previous one).
    func score(shape: [Int], data: [Float]) throws -> ServingScores {
        guard let model else { throw WorkerError("no model is loaded (the peer's load failed)") }
        guard shape.count == 2, shape[0] >= 0, shape[1] >= 1, shape[0].multipliedReportingOverflow(by: shape[1]) == (data.count, false) else {
            throw WorkerError("shape \(shape) is not [examples, features] of the \(data.count) values sent")
        }
        let batch = ServingBatch(count: shape[0], featureCount: shape[1], values: data)
        var scores = try predict(model.value, batch)
        guard scores.classCount >= 1, scores.values.count == batch.count * scores.classCount else {
            throw WorkerError("predict returned \(scores.values.count) scores in \(scores.classCount) classes for \(batch.count) examples")
        }
        if softmax { scores = ServingScores(classCount: scores.classCount, values: Self.softmax(scores.values, classCount: scores.classCount)) }
        try Self.checkProbabilities(scores)
        return scores
    }

    /// Row-wise softmax (the maximum subtracted first, so large logits do not overflow).
    static func softmax(_ logits: [Float], classCount: Int) -> [Float] {
        var output = logits
        var start = 0
        while start < output.count {
            let row = start..<(start + classCount)
            let top = output[row].max()!
            var total: Float = 0
            for index in row {
                output[index] = exp(output[index] - top)
                total += output[index]
            }
            for index in row { output[index] /= total }
            start += classCount
        }
        return output
    }

    /// Every score finite and non-negative, each example's summing to 1 within
    /// `LearningLimits.classScoreSumTolerance` (what the hard-example miners accept).
    static func checkProbabilities(_ scores: ServingScores) throws {
        var start = 0
        var example = 0
        while start < scores.values.count {
            let row = scores.values[start..<(start + scores.classCount)]
            guard row.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
                throw WorkerError("predict returned a score that is negative or not finite for example \(example); "
                    + "class probabilities are needed (serve logits with softmax: true)")
            }
            let sum = row.reduce(0, +)
            guard abs(Double(sum) - 1) <= LearningLimits.classScoreSumTolerance else {
                throw WorkerError("the scores of example \(example) sum to \(sum), not 1; class probabilities are needed "
                    + "(serve logits with softmax: true)")
            }
            start += scores.classCount
            example += 1
        }
    }
}
