import StarlingLearning
import StarlingTaskYAML
import StarlingTasks
import Testing

/// Defaults, inheritance, the spec-field/parameter precedence and name matching.
@Suite struct SpecRulesTests {
    static func task(_ spec: String) -> String {
        "apiVersion: edgeai.io/v1alpha1\nkind: FederatedTask\nmetadata:\n  name: demo\nspec:\n" + spec
    }

    static let oneWorker = """
          trainingWorkers:
            - name: w0
              workerSpec:
                dataset: {name: digits}
                trainScriptBootFile: builtin:logreg

        """

    @Test func defaultsApplyWhenNothingIsGiven() throws {
        let task = try #require(try SpecFiles.valid(Self.task(Self.oneWorker)).spec.federatedTask)
        #expect(task.aggregationWorker == AggregationWorker(name: "aggregation-worker", algorithm: .fedAvg))
        #expect(task.trainingWorkers[0].hyperparameters == Hyperparameters(batchSize: 32, learningRate: 0.01, epochs: 1))
        #expect(task.rounds == RoundSettings(rounds: 10, minNodeNumber: 1, roundTimeout: .seconds(300), roundsBetweenValidations: 1))
    }

    @Test func aggregationParametersAreTheTaskWideValuesForWorkers() throws {
        let yaml = Self.task("""
              aggregationWorker:
                workerSpec:
                  aggregationAlgorithm: fedprox
                  parameters:
                    - {key: batch_size, value: 8}
                    - {key: epochs, value: 3}
                    - {key: rounds, value: 7}
                    - {key: round_timeout, value: 90s}
                    - {key: mu, value: "0.01"}

            """ + Self.oneWorker)
        let task = try #require(try SpecFiles.valid(yaml).spec.federatedTask)
        #expect(task.aggregationWorker.algorithm == .fedProx)
        #expect(task.aggregationWorker.extraParameters == [Parameter(key: "mu", value: "0.01")])
        #expect(task.trainingWorkers[0].hyperparameters == Hyperparameters(batchSize: 8, learningRate: 0.01, epochs: 3))
        #expect(task.rounds.rounds == 7)
        #expect(task.rounds.roundTimeout == .seconds(90))
    }

    @Test func centralEvaluationAndRoundRetriesAreRead() throws {
        let yaml = Self.task("""
              roundRetries: 0
              aggregationWorker:
                evaluation:
                  dataset: {name: digits-test}

            """ + Self.oneWorker)
        let task = try #require(try SpecFiles.valid(yaml).spec.federatedTask)
        #expect(task.aggregationWorker.evaluationDataset == DatasetRef(name: "digits-test"))
        #expect(task.rounds.roundRetries == 0)
        let defaults = try #require(try SpecFiles.valid(Self.task(Self.oneWorker)).spec.federatedTask)
        #expect(defaults.aggregationWorker.evaluationDataset == nil && defaults.rounds.roundRetries == 3)
        let missing = Self.task("  aggregationWorker:\n    evaluation: {}\n" + Self.oneWorker)
        #expect(SpecFiles.errors(missing).contains { "\($0.path): \($0.message)".contains("spec.aggregationWorker.evaluation: missing dataset") })
    }

    @Test func aSpecFieldWinsOverTheParameterAndSaysSo() throws {
        let yaml = Self.task("""
              rounds: 20
              aggregationWorker:
                workerSpec:
                  parameters:
                    - key: rounds
                      value: 5

            """ + Self.oneWorker)
        let loaded = try SpecFiles.valid(yaml)
        #expect(loaded.spec.federatedTask?.rounds.rounds == 20)
        #expect(loaded.warnings.map(\.description) == [
            "line 6: warning: spec.rounds: also given as spec.aggregationWorker.workerSpec.parameters[0] (rounds: 5); read spec.rounds",
        ])
    }

    @Test func parametersAreInheritedKeyByKeyAndUnknownKeysKept() throws {
        let yaml = Self.task("""
              trainingWorkers:
                - name: w0
                  workerSpec:
                    dataset: {name: digits}
                    trainScriptBootFile: builtin:mlp
                    parameters:
                      - {key: batch_size, value: 16}
                      - {key: learning_rate, value: 0.1}
                      - {key: hidden_units, value: 64}
                      - {key: verbose}
                - name: w1
                  nodeName: peer-1
                  workerSpec:
                    dataset: {name: other}
                    parameters:
                      - {key: batch_size, value: 4}

            """)
        let workers = try #require(try SpecFiles.valid(yaml).spec.federatedTask).trainingWorkers
        #expect(workers[1].dataset == DatasetRef(name: "other"))
        #expect(workers[1].placement == .node("peer-1"))
        #expect(workers[1].script.bootFile == .builtin(.mlp))
        #expect(workers[1].hyperparameters == Hyperparameters(batchSize: 4, learningRate: 0.1, epochs: 1))
        #expect(workers[1].extraParameters == [Parameter(key: "hidden_units", value: "64"), Parameter(key: "verbose", value: nil)])
    }

    @Test func durationsAndAlgorithmsAreReadAsDocumented() throws {
        for (text, duration) in [("60s", Duration.seconds(60)), ("5m", .seconds(300)), ("1.5h", .seconds(5_400)), ("2500ms", .milliseconds(2_500)), ("45", .seconds(45))] {
            let task = try #require(try SpecFiles.valid(Self.task(Self.oneWorker + "  roundTimeout: \(text)\n")).spec.federatedTask)
            #expect(task.rounds.roundTimeout == duration)
        }
        for algorithm in AggregationAlgorithm.allCases {
            #expect(AggregationAlgorithm(named: algorithm.rawValue.uppercased()) == algorithm)
        }
        #expect(AggregationAlgorithm(named: "FedFoo") == nil)
    }

    @Test func nearestNameSuggestsTyposAndOtherCaseStyles() {
        let known = ["trainingWorkers", "aggregationWorker", "rounds", "roundTimeout"]
        #expect(NearestNameProbe.suggestion("trainingworkers", known) == "trainingWorkers")
        #expect(NearestNameProbe.suggestion("training_workers", known) == "trainingWorkers")
        #expect(NearestNameProbe.suggestion("trainngWorkers", known) == "trainingWorkers")
        #expect(NearestNameProbe.suggestion("round_timeout", known) == "roundTimeout")
        #expect(NearestNameProbe.suggestion("colour", known) == nil)
    }
}

/// The suggestion as users see it, through an unknown field under `spec`.
enum NearestNameProbe {
    static func suggestion(_ typo: String, _ known: [String]) -> String? {
        let node = SpecNode.mapping([
            SpecEntry(key: "apiVersion", value: .plain("edgeai.io/v1alpha1")),
            SpecEntry(key: "kind", value: .plain("FederatedTask")),
            SpecEntry(key: "metadata", value: .mapping([SpecEntry(key: "name", value: .plain("demo"))], line: nil)),
            SpecEntry(key: "spec", value: .mapping([SpecEntry(key: typo, value: .plain("1"))], line: nil)),
        ], line: nil)
        let issue = TaskSpecDecoder.decode(node).issues.first { $0.path == "spec.\(typo)" }
        guard let message = issue?.message, let start = message.range(of: "did you mean ")?.upperBound else { return nil }
        return String(message[start...].dropLast(2))
    }
}
