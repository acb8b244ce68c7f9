import Foundation
import StarlingTasks

/// An evaluation worker's result file, checked: `{"models": {NAME: {"confusion": [[...], ...]}, ...}}`
/// with, for every model asked, a square matrix of at most `ModelEvaluationLimits.classesMax`
/// classes whose cells are whole non-negative counts adding up to the evaluation rows. The file
/// comes from a worker's code: anything else is refused with what is wrong, never trusted.
enum ModelEvaluationOutput {
    /// The matrices of `models` in `bytes`; models the file holds beyond those are ignored (once the
    /// whole file has decoded).
    static func parse(_ bytes: [UInt8], models: [String], rows: UInt64) throws -> [String: ConfusionMatrix] {
        guard bytes.count <= ModelEvaluationLimits.outputBytesMax else {
            throw RuntimeError("the result file is \(bytes.count) bytes, over ModelEvaluationLimits.outputBytesMax "
                + "(\(ModelEvaluationLimits.outputBytesMax))")
        }
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: Data(bytes))
        } catch {
            throw RuntimeError("the result file is not {\"models\": {NAME: {\"confusion\": [[counts]]}}}: \(Self.describe(error))")
        }
        var matrices: [String: ConfusionMatrix] = [:]
        for name in models {
            guard let model = file.models[name] else {
                throw RuntimeError("the result file has no model \(name) (it has \(file.models.keys.sorted().prefix(8).joined(separator: ", ")))")
            }
            guard let confusion = model.confusion else { throw RuntimeError("model \(name) has no \"confusion\" matrix") }
            matrices[name] = try matrix(confusion, model: name, rows: rows)
        }
        return matrices
    }

    private static func matrix(_ confusion: [[Cell]], model name: String, rows: UInt64) throws -> ConfusionMatrix {
        let classes = confusion.count
        guard classes <= ModelEvaluationLimits.classesMax else {
            throw RuntimeError("model \(name): \(classes) classes, over ModelEvaluationLimits.classesMax (\(ModelEvaluationLimits.classesMax))")
        }
        var counts: [UInt64] = []
        counts.reserveCapacity(classes * classes)
        var total: UInt64 = 0
        for (truth, row) in confusion.enumerated() {
            guard row.count == classes else {
                throw RuntimeError("model \(name): row \(truth) has \(row.count) counts; a matrix of \(classes) classes is square")
            }
            for (guess, cell) in row.enumerated() {
                guard case let .count(count) = cell else {
                    throw RuntimeError("model \(name): row \(truth), column \(guess) is \(cell.text), not a whole count of 0 or more")
                }
                let (sum, overflow) = total.addingReportingOverflow(count)
                guard !overflow else { throw RuntimeError("model \(name): the counts overflow") }
                total = sum
                counts.append(count)
            }
        }
        guard total == rows else {
            throw RuntimeError("model \(name): the matrix counts \(total) rows; the evaluation data has \(rows)")
        }
        return ConfusionMatrix(classes: classes, counts: counts)
    }

    /// A decoding error in a few words (never the file's content: it may be any file).
    private static func describe(_ error: Error) -> String {
        guard let error = error as? DecodingError else { return "not JSON" }
        switch error {
        case let .keyNotFound(key, context):
            return "\(path(context.codingPath + [key])) is missing"
        case let .typeMismatch(_, context), let .valueNotFound(_, context):
            return "\(path(context.codingPath)) is not of the right type"
        case let .dataCorrupted(context):
            return context.codingPath.isEmpty ? "not JSON" : "\(path(context.codingPath)) is malformed"
        @unknown default:
            return "not readable"
        }
    }

    private static func path(_ keys: [CodingKey]) -> String {
        keys.isEmpty ? "the top level" : keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().prefix(120).description
    }

    private struct File: Decodable {
        let models: [String: Model]
    }

    private struct Model: Decodable {
        let confusion: [[Cell]]?
    }

    /// One cell: a count, or what stood there instead (for the error).
    private enum Cell: Decodable {
        case count(UInt64)
        case other(String)

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let count = try? container.decode(UInt64.self) {
                self = .count(count)
            } else if let number = try? container.decode(Double.self) {
                self = .other(number.isFinite && number.rounded() == number && number >= 0 ? "too large" : "\(number)")
            } else {
                self = .other("not a number")
            }
        }

        var text: String {
            switch self {
            case let .count(count): return "\(count)"
            case let .other(text): return text
            }
        }
    }
}
