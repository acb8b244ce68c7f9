import StarlingTaskYAML
import StarlingTasks
import Testing

/// What a training worker is given as STARLING_PARAMETERS, and the warning for a custom key in the
/// aggregation worker's list (docs/tasks.md, docs/workers.md).
@Suite struct WorkerParameterTests {
    static let spec = SpecRulesTests.task("""
          aggregationWorker:
            workerSpec:
              aggregationAlgorithm: FedProx
              parameters:
                - {key: batch_size, value: 16}
                - {key: proximal_mu, value: 0.1}
                - {key: server_momentum, value: 0.5}
                - {key: eta, value: 0.2}
                - {key: momentum_decay, value: 0.5}
                - {key: warmup_steps, value: "100"}
                - {key: shuffle, value: true}
                - {key: augment, value: flip}
                - {key: note}
                - {key: optimizer, value: adam}
                - {key: batchsize, value: 64}
          trainingWorkers:
            - name: w0
              workerSpec:
                dataset: {name: digits}
                trainScriptBootFile: builtin:logreg
                parameters:
                  - {key: optimizer, value: sgd}
                  - {key: num_classes, value: 10}
            - name: w1
              workerSpec:
                parameters:
                  - {key: learning_rate, value: 0.5}
                  - {key: num_classes, value: "1.12"}

        """)

    @Test func aCustomKeyInTheAggregationWorkersListIsNamedWithWhereItGoes() throws {
        let loaded = try SpecFiles.valid(Self.spec)
        let base = "spec.aggregationWorker.workerSpec.parameters"
        let goes = "is read by neither Starling nor the aggregation: every training worker gets it in STARLING_PARAMETERS"
        #expect(loaded.warnings.map(\.description) == [
            "line 14: warning: \(base)[4]: momentum_decay \(goes) (a worker's own momentum_decay wins)",
            "line 15: warning: \(base)[5]: warmup_steps \(goes) (a worker's own warmup_steps wins)",
            "line 16: warning: \(base)[6]: shuffle \(goes) (a worker's own shuffle wins)",
            "line 17: warning: \(base)[7]: augment \(goes) (a worker's own augment wins)",
            "line 18: warning: \(base)[8]: note \(goes) (a worker's own note wins)",
            "line 19: warning: \(base)[9]: optimizer \(goes) (a worker's own optimizer wins)",
            "line 20: warning: \(base)[10]: batchsize \(goes) (a worker's own batchsize wins); did you mean batch_size?",
        ])
    }

    @Test func customValuesReachEveryWorkerTypedAsKnownOnesAre() throws {
        let task = try #require(try SpecFiles.valid(Self.spec).spec.federatedTask)
        let first = WorkerParameters.values(for: task.trainingWorkers[0], of: task)
        #expect(first == [
            "batch_size": .integer(16), "learning_rate": .number(0.01), "epochs": .integer(1), "rounds": .integer(10),
            "aggregation": .text("FedProx"), "proximal_mu": .number(0.1),
            // Its own keys: its value wins over the aggregation worker's.
            "optimizer": .text("sgd"), "num_classes": .integer(10),
            // The aggregation worker's custom keys; not the aggregation's own (server_momentum, eta).
            "momentum_decay": .number(0.5), "warmup_steps": .integer(100), "shuffle": .boolean(true),
            "augment": .text("flip"), "note": WorkerValue.none, "batchsize": .integer(64),
        ])
        let second = WorkerParameters.values(for: task.trainingWorkers[1], of: task)
        #expect(second["learning_rate"] == .number(0.5) && second["num_classes"] == .number(1.12))
        #expect(second["optimizer"] == .text("sgd"), "inherited from the first worker, key by key")
        #expect(second["momentum_decay"] == .number(0.5))
    }

    @Test func aValueIsTypedByTheSpecsScalarRules() {
        #expect(WorkerValue("32") == .integer(32))
        #expect(WorkerValue("-7") == .integer(-7))
        #expect(WorkerValue("0.001") == .number(0.001))
        #expect(WorkerValue("1e-3") == .number(0.001))
        #expect(WorkerValue("5.0") == .number(5))
        #expect(WorkerValue("true") == .boolean(true) && WorkerValue("False") == .boolean(false))
        #expect(WorkerValue("yes") == .text("yes"), "YAML 1.1's yes/no are text")
        #expect(WorkerValue("1.2.3") == .text("1.2.3"))
        #expect(WorkerValue("inf") == .text("inf") && WorkerValue("nan") == .text("nan"), "only finite numbers")
        #expect(WorkerValue("") == .text(""))
        #expect(WorkerValue(nil) == WorkerValue.none)
    }

    @Test func theAggregationsOwnParametersAndTrainingWorkersKeysGetNoWarning() throws {
        let yaml = SpecRulesTests.task("""
              aggregationWorker:
                workerSpec:
                  aggregationAlgorithm: FedAdam
                  parameters:
                    - {key: eta, value: 0.2}
                    - {key: beta_1, value: 0.9}
                    - {key: proximal_mu, value: 0}

            """ + """
              trainingWorkers:
                - name: w0
                  workerSpec:
                    dataset: {name: digits}
                    trainScriptBootFile: builtin:logreg
                    parameters:
                      - {key: anything_custom, value: 1}

            """)
        #expect(try SpecFiles.valid(yaml).warnings.isEmpty)
    }
}
