import StarlingTaskYAML
import StarlingTasks
import Testing

/// A table of wrong specs, each with the exact errors (path: message) and the line of the first.
@Suite struct BadSpecTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let yaml: String
        let errors: [String]
        let line: Int?
        var testDescription: String { name }
    }

    static func task(kind: String = "FederatedTask", name: String = "demo", _ spec: String) -> String {
        "apiVersion: edgeai.io/v1alpha1\nkind: \(kind)\nmetadata:\n  name: \(name)\nspec:\n" + spec
    }

    /// Two valid training workers (lines 6-12 of a `task`), for cases about other fields.
    static let workers = """
          trainingWorkers:
            - name: w0
              workerSpec:
                dataset:
                  name: digits
                trainScriptBootFile: builtin:logreg
            - name: w1

        """

    /// A joint inference service whose `hardExampleMining` mapping is `mining` (its lines indented
    /// by 6, as written); the mapping's first line is line 9 of a `task`.
    static func jointInference(mining: String) -> String {
        "  edgeWorker:\n    model: {name: small}\n    hardExampleMining:\n" + mining + "\n"
            + "    workerSpec: {scriptBootFile: /edge.py}\n"
            + "  cloudWorker:\n    model: {name: big}\n    workerSpec: {scriptBootFile: /cloud.py}\n"
    }

    static let cases: [Case] = [
        Case(name: "wrong apiVersion", yaml: task(workers).replacingOccurrences(of: "edgeai.io/v1alpha1", with: "sedna.io/v1alpha1"),
             errors: ["apiVersion: must be edgeai.io/v1alpha1, got \"sedna.io/v1alpha1\""], line: 1),
        Case(name: "unknown kind", yaml: task(kind: "FederatedTasks", workers),
             errors: ["kind: unknown kind \"FederatedTasks\" (known: FederatedTask, IncrementalLearningJob, JointInferenceService); did you mean FederatedTask?"], line: 2),
        Case(name: "name not a DNS label", yaml: task(name: "Example_Task", workers),
             errors: ["metadata.name: must be a DNS-1123 label (lowercase letters, digits, '-', at most 63)"], line: 4),
        Case(name: "name too long", yaml: task(name: String(repeating: "a", count: 64), workers),
             errors: ["metadata.name: must be a DNS-1123 label (lowercase letters, digits, '-', at most 63)"], line: 4),
        Case(name: "unknown field close to a known one", yaml: task(workers + "  round: 5\n"),
             errors: ["spec.round: unknown field (did you mean rounds?)"], line: 13),
        Case(name: "unknown field in another case style", yaml: task(workers + "  min_node_number: 1\n"),
             errors: ["spec.min_node_number: unknown field (did you mean minNodeNumber?)"], line: 13),
        Case(name: "unknown field far from any", yaml: task(workers + "  colour: blue\n"),
             errors: ["spec.colour: unknown field (known here: aggregationWorker, trainingWorkers, minNodeNumber, rounds, roundTimeout, roundsBetweenValidations, roundRetries, placement, coordinator)"], line: 13),
        Case(name: "dataset without a name", yaml: task(workers + "      workerSpec:\n        dataset:\n          trainScriptDir: /x\n"),
             errors: ["spec.trainingWorkers[1].workerSpec.dataset: missing name"], line: 15),
        Case(name: "unknown algorithm", yaml: task("  aggregationWorker:\n    workerSpec:\n      aggregationAlgorithm: FedFoo\n" + workers),
             errors: ["spec.aggregationWorker.workerSpec.aggregationAlgorithm: unknown algorithm \"FedFoo\" (known: FedAvg, FedAvgM, FedProx, FedAdam, FedYogi, FedAdagrad, FedMedian, TrimmedMean, Krum, MultiKrum)"], line: 8),
        Case(name: "duplicate worker names", yaml: task(workers.replacingOccurrences(of: "name: w1", with: "name: w0")),
             errors: ["spec.trainingWorkers[1].name: duplicate worker name \"w0\" (also spec.trainingWorkers[0].name)"], line: 12),
        Case(name: "worker named like the aggregation worker", yaml: task("  aggregationWorker:\n    name: w1\n" + workers),
             errors: ["spec.trainingWorkers[1].name: \"w1\" is also the aggregation worker's name"], line: 14),
        Case(name: "empty trainingWorkers", yaml: task("  trainingWorkers: []\n"),
             errors: ["spec.trainingWorkers: must list at least one training worker"], line: 6),
        Case(name: "no trainingWorkers", yaml: task("  rounds: 3\n"),
             errors: ["spec: missing trainingWorkers (list at least one training worker)"], line: 6),
        Case(name: "trainingWorkers not a list", yaml: task("  trainingWorkers: w0\n"),
             errors: ["spec.trainingWorkers: expected a list (lines starting with -), got the value \"w0\""], line: 6),
        Case(name: "worker without a name", yaml: task(workers.replacingOccurrences(of: "- name: w1", with: "- nodeName: n1")),
             errors: ["spec.trainingWorkers[1]: missing name"], line: 12),
        Case(name: "bad worker name", yaml: task(workers.replacingOccurrences(of: "name: w1", with: "name: W 1")),
             errors: ["spec.trainingWorkers[1].name: must be a DNS-1123 label (lowercase letters, digits, '-', at most 63)"], line: 12),
        Case(name: "batch_size not a number", yaml: task(workers + "      workerSpec:\n        parameters:\n          - key: batch_size\n            value: abc\n"),
             errors: ["spec.trainingWorkers[1].workerSpec.parameters[0].value: expected a whole number, got \"abc\""], line: 16),
        Case(name: "batch_size written as a real", yaml: task(workers + "      workerSpec:\n        parameters:\n          - key: batch_size\n            value: 32.0\n"),
             errors: ["spec.trainingWorkers[1].workerSpec.parameters[0].value: expected a whole number, got \"32.0\""], line: 16),
        Case(name: "negative learning rate", yaml: task(workers + "      workerSpec:\n        parameters:\n          - key: learning_rate\n            value: -0.1\n"),
             errors: ["spec.trainingWorkers[1].workerSpec.parameters[0].value: must be greater than 0"], line: 16),
        Case(name: "learning rate not finite", yaml: task(workers + "      workerSpec:\n        parameters:\n          - key: learning_rate\n            value: .inf\n"),
             errors: ["spec.trainingWorkers[1].workerSpec.parameters[0].value: expected a number, got \".inf\""], line: 16),
        Case(name: "zero rounds", yaml: task(workers + "  rounds: 0\n"),
             errors: ["spec.rounds: 0 is out of range (1...1000000)"], line: 13),
        Case(name: "round timeout not a duration", yaml: task(workers + "  roundTimeout: 10 parsecs\n"),
             errors: ["spec.roundTimeout: expected a duration such as 60s, 5m or 1h, got \"10 parsecs\""], line: 13),
        Case(name: "round timeout too long", yaml: task(workers + "  roundTimeout: 8d\n"),
             errors: ["spec.roundTimeout: 8d is out of range (1s...604800s)"], line: 13),
        Case(name: "min_node_number above the worker count", yaml: task(workers + "  minNodeNumber: 3\n"),
             errors: ["spec.minNodeNumber: 3 is more than the number of training workers (2)"], line: 13),
        Case(name: "min_node_number parameter above the worker count",
             yaml: task("  aggregationWorker:\n    workerSpec:\n      parameters:\n        - key: min_node_number\n          value: 9\n" + workers),
             errors: ["spec.aggregationWorker.workerSpec.parameters[0].value: 9 is more than the number of training workers (2)"], line: 10),
        Case(name: "task setting in a training worker", yaml: task(workers + "      workerSpec:\n        parameters:\n          - key: rounds\n            value: 3\n"),
             errors: ["spec.trainingWorkers[1].workerSpec.parameters[0].key: rounds is a task setting: set it in spec.aggregationWorker.workerSpec.parameters or as spec.rounds"], line: 15),
        Case(name: "parameter given twice",
             yaml: task(workers + "      workerSpec:\n        parameters:\n          - key: epochs\n          - key: epochs\n            value: 2\n"),
             errors: ["spec.trainingWorkers[1].workerSpec.parameters[1].key: parameter epochs given twice (first at spec.trainingWorkers[1].workerSpec.parameters[0])"], line: 16),
        Case(name: "parameter without a key", yaml: task(workers + "      workerSpec:\n        parameters:\n          - value: 2\n"),
             errors: ["spec.trainingWorkers[1].workerSpec.parameters[0]: missing key"], line: 15),
        Case(name: "the two worker placements disagree",
             yaml: task("  aggregationWorker:\n    trainingWorkers:\n      - name: other\n" + workers),
             errors: ["spec.trainingWorkers: disagrees with spec.aggregationWorker.trainingWorkers (line 7): list the training workers once"], line: 9),
        Case(name: "the two script placements disagree",
             yaml: task(workers.replacingOccurrences(of: "          name: digits\n", with: "          name: digits\n          trainScriptDir: /a\n        trainScriptDir: /b\n")),
             errors: ["spec.trainingWorkers[0].workerSpec.trainScriptDir: disagrees with spec.trainingWorkers[0].workerSpec.dataset.trainScriptDir (line 11): give it once"], line: 12),
        Case(name: "unknown built-in worker", yaml: task(workers.replacingOccurrences(of: "builtin:logreg", with: "builtin:svm")),
             errors: ["spec.trainingWorkers[0].workerSpec.trainScriptBootFile: unknown built-in worker \"builtin:svm\" (known: builtin:logreg, builtin:mlp)"], line: 11),
        Case(name: "relative boot file without a directory", yaml: task(workers.replacingOccurrences(of: "builtin:logreg", with: "main.py")),
             errors: ["spec.trainingWorkers[0].workerSpec.trainScriptBootFile: main.py is a relative path: give trainScriptDir or an absolute path"], line: 11),
        Case(name: "no boot file", yaml: task(workers.replacingOccurrences(of: "        trainScriptBootFile: builtin:logreg\n", with: "")),
             errors: ["spec.trainingWorkers[0].workerSpec: missing trainScriptBootFile (a path, or builtin:logreg or builtin:mlp)"], line: 9),
        Case(name: "first worker without a dataset", yaml: task(workers.replacingOccurrences(of: "        dataset:\n          name: digits\n", with: "")),
             errors: ["spec.trainingWorkers[0].workerSpec: missing dataset (the dataset this worker trains on)"], line: 9),
        Case(name: "aggregation worker pinned to a node", yaml: task("  aggregationWorker:\n    nodeName: cloud0\n" + workers),
             errors: ["spec.aggregationWorker.nodeName: the coordinator is elected among live peers, not named: choose who may coordinate with spec.coordinator.tags"], line: 7),
        Case(name: "placement tags not a mapping", yaml: task(workers + "  placement:\n    tags: [edge]\n"),
             errors: ["spec.placement.tags: expected a mapping of tag names to values, got a list"], line: 14),
        Case(name: "coordinator with an unknown field", yaml: task(workers + "  coordinator:\n    tag:\n      tier: cloud\n"),
             errors: ["spec.coordinator.tag: unknown field (did you mean tags?)"], line: 14),
        Case(name: "name given as a list", yaml: task(name: "[a, b]", workers),
             errors: ["metadata.name: expected a single value, got a list"], line: 4),
        Case(name: "empty document", yaml: "", errors: ["the file is empty"], line: 1),
        Case(name: "not a mapping", yaml: "- a\n- b\n", errors: ["expected a mapping (key: value lines), got a list"], line: 1),
        Case(name: "nothing but unknown fields",
             yaml: "apiversion: v1\n",
             errors: ["apiversion: unknown field (did you mean apiVersion?)", "missing apiVersion", "missing kind", "missing metadata", "missing spec"], line: 1),
        Case(name: "YAML duplicate key", yaml: task(workers + "  rounds: 1\n  rounds: 2\n"),
             errors: ["a mapping gives the key \"rounds\" twice (line 13, column 3)"], line: 13),
        Case(name: "incremental job without a trigger condition",
             yaml: task(kind: "IncrementalLearningJob", """
                  initialModel: {name: m0}
                  dataset: {name: d0, trainProb: 1.5}
                  trainSpec:
                    workerSpec: {scriptBootFile: /t.py}
                    trigger:
                      timer: {start: "25:00", end: "04:00"}
                  evalSpec:
                    workerSpec: {scriptBootFile: /e.py}
                  deploySpec:
                    model: {name: m1}
                    workerSpec: {scriptBootFile: /d.py}
                    trigger:
                      condition: {operator: "=>", threshold: 0.1, metric: "precision[x]"}

                """),
             errors: ["spec.dataset.trainProb: must be greater than 0 and at most 1",
                      "spec.trainSpec.trigger.timer.start: expected a time of day as HH:MM (00:00 to 23:59), got \"25:00\"",
                      "spec.trainSpec.trigger: missing condition",
                      "spec.deploySpec.trigger.condition.operator: unknown operator \"=>\" (known: gt, >, ge, >=, eq, =, ==, ne, !=, le, <=, lt, <)",
                      "spec.deploySpec.trigger.condition.metric: metric \"precision[x]\" is not a name (letters, digits, _ . -) optionally indexed, as precision[3]"],
             line: 7),
        Case(name: "incremental job with a bad deploy model and eval model",
             yaml: task(kind: "IncrementalLearningJob", """
                  initialModel: {name: m0}
                  dataset: {name: d0}
                  trainSpec:
                    workerSpec: {scriptBootFile: /t.py}
                    trigger:
                      condition: {operator: gt, threshold: 10, metric: num_of_samples}
                  evalSpec:
                    workerSpec: {scriptBootFile: /e.py}
                    initialEvalModel: {}
                  deploySpec:
                    model: {name: m1, hotUpdateEnabled: yes please, pollPeriodSeconds: 0}
                    workerSpec: {scriptBootFile: /d.py}
                    trigger:
                      condition: {operator: ge, threshold: 0, metric: accuracy_delta}

                """),
             errors: ["spec.evalSpec.initialEvalModel: missing name",
                      "spec.deploySpec.model.hotUpdateEnabled: expected true or false, got \"yes please\"",
                      "spec.deploySpec.model.pollPeriodSeconds: 0 is out of range (1...86400)"],
             line: 14),
        Case(name: "joint inference without hard example mining",
             yaml: task(kind: "JointInferenceService", """
                  edgeWorker:
                    model: {name: small}
                    workerSpec: {scriptBootFile: /edge.py}
                  cloudWorker:
                    model: {}
                    workerSpec: {scriptDir: /code}

                """),
             errors: ["spec.edgeWorker: missing hardExampleMining", "spec.cloudWorker.model: missing name",
                      "spec.cloudWorker.workerSpec: missing scriptBootFile (a path, or builtin:logreg or builtin:mlp)"], line: 7),
        Case(name: "joint inference with an unknown hard example miner",
             yaml: task(kind: "JointInferenceService", jointInference(mining: "      name: Entropy")),
             errors: ["spec.edgeWorker.hardExampleMining.name: unknown hard example mining algorithm \"Entropy\" (known: Threshold, CrossEntropy, IBT, Random, CloudOnly, EdgeOnly)"],
             line: 9),
        Case(name: "joint inference with an unknown and an out-of-range miner parameter",
             yaml: task(kind: "JointInferenceService", jointInference(mining: """
                       name: IBT
                       parameters:
                         - key: threshold
                           value: "0.5"
                         - key: threshold_box
                           value: "1.5"
                 """)),
             errors: ["spec.edgeWorker.hardExampleMining.parameters[0].key: unknown parameter \"threshold\" for IBT (known: threshold_img, threshold_box)",
                      "spec.edgeWorker.hardExampleMining.parameters[1].value: threshold_box must be a number from 0 to 1, got \"1.5\""],
             line: 11),
        Case(name: "joint inference with a parameter for a miner that takes none",
             yaml: task(kind: "JointInferenceService", jointInference(mining: """
                       name: CloudOnly
                       parameters: [{key: random_ratio, value: "0.3"}]
                 """)),
             errors: ["spec.edgeWorker.hardExampleMining.parameters[0].key: unknown parameter \"random_ratio\": CloudOnly takes no parameters"],
             line: 10),
        Case(name: "kind-specific fields of another kind", yaml: task(kind: "JointInferenceService", workers),
             errors: ["spec.trainingWorkers: unknown field (known here: edgeWorker, cloudWorker, placement, coordinator)",
                      "spec: missing edgeWorker", "spec: missing cloudWorker"], line: 6),
    ]

    @Test(arguments: cases)
    func eachBadSpecGivesItsExactErrors(_ bad: Case) {
        let errors = SpecFiles.errors(bad.yaml)
        #expect(errors.map(\.pathAndMessage) == bad.errors)
        #expect(errors.first?.line == bad.line)
    }

    @Test func everyErrorIsReportedNotJustTheFirst() {
        let yaml = Self.task(name: "Bad_Name", "  rounds: zero\n  roundTimeout: soon\n" + Self.workers.replacingOccurrences(of: "name: w1", with: "name: w0"))
        let errors = SpecFiles.errors(yaml)
        #expect(errors.map(\.pathAndMessage) == [
            "metadata.name: must be a DNS-1123 label (lowercase letters, digits, '-', at most 63)",
            "spec.trainingWorkers[1].name: duplicate worker name \"w0\" (also spec.trainingWorkers[0].name)",
            "spec.rounds: expected a whole number, got \"zero\"",
            "spec.roundTimeout: expected a duration such as 60s, 5m or 1h, got \"soon\"",
        ])
        #expect(errors.map(\.line) == [4, 14, 6, 7])
    }

    @Test func textThatIsNotYAMLGivesOneErrorWithLineAndColumn() {
        let errors = SpecFiles.errors("apiVersion: edgeai.io/v1alpha1\nkind: [FederatedTask\nspec: x\n")
        #expect(errors.count == 1)
        let error = errors.first
        #expect(error?.path == "")
        #expect(error?.message.hasPrefix("not valid YAML: ") == true)
        #expect(error?.message.contains("column") == true)
        #expect(error?.line != nil)
    }

    @Test func anErrorNamesTheFileWhenThereIsOne() {
        guard case let .failure(errors) = TaskSpecLoader.load(text: "kind: x\n", file: "task.yaml") else {
            Issue.record("expected errors")
            return
        }
        #expect(errors.description.hasPrefix("task.yaml:1: error: missing apiVersion\n"))
        #expect(errors.description.contains("task.yaml:1: error: kind: unknown kind \"x\""))
    }

    @Test func anUnreadableFileIsNamed() {
        guard case let .failure(errors) = TaskSpecLoader.load(path: "/nonexistent/task.yaml") else {
            Issue.record("expected an error")
            return
        }
        #expect(errors.issues.count == 1)
        #expect(errors.issues[0].message.hasPrefix("cannot read /nonexistent/task.yaml: "))
    }
}
