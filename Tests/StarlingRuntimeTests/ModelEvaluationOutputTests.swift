@testable import StarlingRuntime
import StarlingTasks
import Testing

/// An evaluation worker's result file is checked before a matrix of it is believed
/// (docs/workers.md, "Evaluation workers (IncrementalLearningJob)").
struct ModelEvaluationOutputTests {
    static let models = ["candidate", "deployed"]

    func parse(_ text: String, rows: UInt64 = 4) throws -> [String: ConfusionMatrix] {
        try ModelEvaluationOutput.parse(Array(text.utf8), models: Self.models, rows: rows)
    }

    func reason(_ text: String, rows: UInt64 = 4) -> String {
        do {
            _ = try parse(text, rows: rows)
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    @Test func aGoodFileGivesEachModelsMatrix() throws {
        let matrices = try parse(#"{"models": {"candidate": {"confusion": [[2, 0], [1, 1]]}, "deployed": {"confusion": [[1, 1, 0], [0, 1, 0], [0, 0, 1]]}, "extra": {"confusion": [[9]]}}}"#)
        #expect(matrices.keys.sorted() == Self.models)
        #expect(matrices["candidate"] == ConfusionMatrix(truth: [0, 0, 1, 1], predicted: [0, 0, 0, 1], classes: 2))
        #expect(matrices["deployed"] == ConfusionMatrix(classes: 3, counts: [1, 1, 0, 0, 1, 0, 0, 0, 1]))
    }

    @Test func noRowsIsEmptyMatrices() throws {
        let matrices = try parse(#"{"models": {"candidate": {"confusion": []}, "deployed": {"confusion": [[0]]}}}"#, rows: 0)
        #expect(matrices["candidate"] == .empty)
        #expect(matrices["deployed"]?.total == 0)
    }

    @Test func aMissingModelIsNamed() {
        #expect(reason(#"{"models": {"candidate": {"confusion": [[4]]}}}"#).contains("no model deployed"))
        #expect(reason(#"{"models": {"candidate": {"confusion": [[4]]}, "deployed": {}}}"#).contains("model deployed has no \"confusion\""))
        #expect(reason(#"{"results": {}}"#).contains(".models is missing"))
    }

    @Test func aMatrixThatIsNotSquareIsRefused() {
        let text = reason(#"{"models": {"candidate": {"confusion": [[2, 0], [1, 1, 0]]}, "deployed": {"confusion": [[4]]}}}"#)
        #expect(text.contains("model candidate: row 1 has 3 counts; a matrix of 2 classes is square"), "\(text)")
    }

    @Test func theTotalMustBeTheEvaluationRows() {
        let text = reason(#"{"models": {"candidate": {"confusion": [[2, 0], [1, 0]]}, "deployed": {"confusion": [[4]]}}}"#)
        #expect(text.contains("model candidate: the matrix counts 3 rows; the evaluation data has 4"), "\(text)")
        #expect(reason(#"{"models": {"candidate": {"confusion": [[4]]}, "deployed": {"confusion": [[5]]}}}"#).contains("counts 5 rows"))
    }

    @Test func countsAreWholeAndNotNegative() {
        #expect(reason(#"{"models": {"candidate": {"confusion": [[5, -1], [0, 0]]}, "deployed": {"confusion": [[4]]}}}"#)
            .contains("model candidate: row 0, column 1 is -1.0, not a whole count"))
        #expect(reason(#"{"models": {"candidate": {"confusion": [[3.5, 0.5], [0, 0]]}, "deployed": {"confusion": [[4]]}}}"#)
            .contains("row 0, column 0 is 3.5"))
        #expect(reason(#"{"models": {"candidate": {"confusion": [["4"]]}, "deployed": {"confusion": [[4]]}}}"#)
            .contains("is not a number"))
        #expect(reason(#"{"models": {"candidate": {"confusion": [[null]]}, "deployed": {"confusion": [[4]]}}}"#)
            .contains("is not a number"))
        #expect(reason(#"{"models": {"candidate": {"confusion": [[1e30]]}, "deployed": {"confusion": [[4]]}}}"#)
            .contains("is too large"))
        #expect(reason(#"{"models": {"candidate": {"confusion": [[18446744073709551615, 5], [0, 0]]}, "deployed": {"confusion": [[4]]}}}"#)
            .contains("the counts overflow"))
    }

    @Test func tooManyClassesOrBytesAreRefused() {
        let classes = ModelEvaluationLimits.classesMax + 1
        let row = "[" + Array(repeating: "0", count: classes).joined(separator: ",") + "]"
        let big = "[" + Array(repeating: row, count: classes).joined(separator: ",") + "]"
        let text = reason(#"{"models": {"candidate": {"confusion": "# + big + #"}, "deployed": {"confusion": [[4]]}}}"#)
        #expect(text.contains("model candidate: \(classes) classes, over ModelEvaluationLimits.classesMax"), "\(text)")
        let padding = String(repeating: " ", count: ModelEvaluationLimits.outputBytesMax)
        #expect(reason(#"{"models": {"candidate": {"confusion": [[4]]}, "deployed": {"confusion": [[4]]}}}"# + padding)
            .contains("over ModelEvaluationLimits.outputBytesMax"))
    }

    @Test func garbageIsRefusedWithoutEchoingIt() {
        for garbage in ["", "not json at all: secret", "[1, 2, 3]", #"{"models": [1]}"#, #"{"models": {"candidate": {"confusion": [1, 2]}}}"#,
                        String(repeating: "[", count: 10_000), "\u{0}\u{1}\u{2}"] {
            let text = reason(garbage)
            #expect(text.hasPrefix("the result file is not {\"models\""), "\(garbage.prefix(40)): \(text)")
            #expect(!text.contains("secret"))
        }
    }
}
