import StarlingTasks
import Testing

/// Evaluation metrics from confusion matrices: hand-computed values, peers' matrices adding up to
/// the matrix of all rows, and deltas.
@Suite struct ConfusionMatrixTests {
    @Test func metricsMatchAHandComputation() {
        // truth:     0 0 0 1 1 2
        // predicted: 0 0 1 1 2 2
        let matrix = ConfusionMatrix(truth: [0, 0, 0, 1, 1, 2], predicted: [0, 0, 1, 1, 2, 2], classes: 3)
        let metrics = matrix.metrics
        #expect(metrics["accuracy"]?.value == 4.0 / 6.0)
        #expect(metrics["precision"]?.perClass == [1, 0.5, 0.5])
        #expect(metrics["recall"]?.perClass == [2.0 / 3.0, 0.5, 1])
        let f1 = metrics["f1"]!.perClass
        #expect(abs(f1[0] - 0.8) < 1e-12 && abs(f1[1] - 0.5) < 1e-12 && abs(f1[2] - 2.0 / 3.0) < 1e-12)
        #expect(abs(metrics["precision"]!.value! - 2.0 / 3.0) < 1e-12)
        #expect(metrics["num_of_samples"]?.value == 6)
    }

    @Test func macroAveragesSkipClassesThatNeverOccur() {
        let matrix = ConfusionMatrix(truth: [0, 2], predicted: [0, 2], classes: 4)
        #expect(matrix.metrics["recall"]?.value == 1, "classes 1 and 3 occur nowhere")
        #expect(ConfusionMatrix.empty.metrics["accuracy"]?.value == nil)
    }

    @Test func peersMatricesAddUpToTheWhole() {
        let truth = [0, 1, 2, 2, 1, 0, 3], predicted = [0, 2, 2, 1, 1, 0, 3]
        let whole = ConfusionMatrix(truth: truth, predicted: predicted, classes: 4)
        let first = ConfusionMatrix(truth: Array(truth[..<3]), predicted: Array(predicted[..<3]), classes: 3)
        let second = ConfusionMatrix(truth: Array(truth[3...]), predicted: Array(predicted[3...]), classes: 4)
        #expect(first.adding(second) == whole && second.adding(first) == whole)
        #expect(whole.total == 7)
    }

    @Test func deltasAreCandidateMinusDeployed() {
        let candidate = ConfusionMatrix(truth: [0, 1, 1], predicted: [0, 1, 1], classes: 2).metrics
        let deployed = ConfusionMatrix(truth: [0, 1, 1], predicted: [0, 0, 1], classes: 2).metrics
        let deltas = MetricValue.deltas(candidate: candidate, deployed: deployed)
        #expect(abs(deltas["accuracy_delta"]!.value! - 1.0 / 3.0) < 1e-12)
        #expect(deltas["recall_delta"]?.perClass == [0, 0.5])
        #expect(deltas["num_of_samples_delta"]?.value == 0)
    }
}
