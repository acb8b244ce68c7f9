import StarlingTaskYAML
import StarlingTasks
import Testing

/// Every file in examples/ loads; the full Starling example means what its comments say.
@Suite struct ExampleFilesTests {
    @Test(arguments: ["federatedtask-seed.yaml", "federatedtask-seed-tidy.yaml", "federatedtask.yaml",
                      "incrementallearningjob.yaml", "jointinferenceservice.yaml", "digits-joint-inference.yaml",
                      "federatedtask-python.yaml", "digits-incremental.yaml"])
    func everyExampleLoadsFromItsPath(_ name: String) throws {
        switch TaskSpecLoader.load(path: SpecFiles.example(name)) {
        case let .success(loaded):
            let bytes = loaded.spec.wireBytes
            #expect(try TaskSpec(wireBytes: bytes) == loaded.spec)
        case let .failure(errors):
            Issue.record("\(errors)")
        }
    }

    @Test func theStarlingExampleUsesEveryAddition() throws {
        let loaded = try SpecFiles.valid(try SpecFiles.text(SpecFiles.example("federatedtask.yaml")))
        #expect(loaded.warnings.isEmpty)
        let spec = loaded.spec
        #expect(spec.labels == [TaskTag("team", "vision")])
        #expect(spec.placement == Placement(tags: [TaskTag("site", "factory-1")]))
        #expect(spec.coordinator == Placement(tags: [TaskTag("tier", "cloud")]))
        #expect(spec.placement.matches(["site": "factory-1", "zone": "a"]))
        #expect(!spec.placement.matches(["site": "factory-2"]))
        let task = try #require(spec.federatedTask)
        #expect(task.rounds == RoundSettings(rounds: 20, minNodeNumber: 2, roundTimeout: .seconds(120), roundsBetweenValidations: 5,
                                             roundRetries: 5))
        #expect(task.aggregationWorker == AggregationWorker(name: "aggregator", model: ModelRef(name: "digits-logreg"), algorithm: .fedAvgM,
                                                            extraParameters: [Parameter(key: "server_momentum", value: "0.9")],
                                                            evaluationDataset: DatasetRef(name: "digits-test")))
        let script = ScriptSpec(bootFile: .builtin(.logreg), frameworkType: "swift")
        #expect(task.trainingWorkers == [
            TrainingWorker(name: "edge-a", dataset: DatasetRef(name: "digits"), script: script,
                           hyperparameters: Hyperparameters(batchSize: 64, learningRate: 0.05, epochs: 2)),
            TrainingWorker(name: "edge-b", dataset: DatasetRef(name: "digits"), script: script,
                           hyperparameters: Hyperparameters(batchSize: 64, learningRate: 0.05, epochs: 2)),
            TrainingWorker(name: "edge-c", nodeName: "edge-c-node", dataset: DatasetRef(name: "digits"), script: script,
                           hyperparameters: Hyperparameters(batchSize: 32, learningRate: 0.05, epochs: 2)),
        ])
    }

    @Test func theIncrementalLearningJobExample() throws {
        let spec = try SpecFiles.valid(try SpecFiles.text(SpecFiles.example("incrementallearningjob.yaml"))).spec
        guard case let .incrementalLearningJob(job) = spec.kind else { Issue.record("wrong kind \(spec.kind.name)"); return }
        #expect(job.initialModel == ModelRef(name: "initial-model"))
        #expect(job.dataset == IncrementalDataset(name: "incremental-dataset", trainProbability: 0.8))
        #expect(job.outputDirectory == "/output")
        #expect(job.trainSpec.nodeName == "edge-node")
        #expect(job.trainSpec.workerSpec.script == ScriptSpec(directory: "/code", bootFile: .python(path: "train.py"),
                                                              frameworkType: "tensorflow", frameworkVersion: "1.15"))
        #expect(job.trainSpec.workerSpec.parameters == [Parameter(key: "batch_size", value: "32"), Parameter(key: "epochs", value: "1")])
        #expect(job.trainSpec.trigger == Trigger(checkPeriodSeconds: 60, timer: TriggerTimer(startMinute: 120, endMinute: 240),
                                                 condition: TriggerCondition(metric: "num_of_samples", comparison: .greater, threshold: 500)))
        #expect(job.evalSpec.nodeName == nil)
        #expect(job.deploySpec.model == ModelRef(name: "deploy-model"))
        #expect(job.deploySpec.hotUpdateEnabled && job.deploySpec.pollPeriodSeconds == 60)
        #expect(job.deploySpec.trigger.condition.threshold == 0.1)
        #expect(job.deploySpec.hardExampleMining?.name == "IBT")
        #expect(job.deploySpec.hardExampleMining?.parameters.map(\.key) == ["threshold_box", "threshold_img"])
    }

    @Test func theJointInferenceServiceExample() throws {
        let spec = try SpecFiles.valid(try SpecFiles.text(SpecFiles.example("jointinferenceservice.yaml"))).spec
        guard case let .jointInferenceService(service) = spec.kind else { Issue.record("wrong kind \(spec.kind.name)"); return }
        #expect(spec.coordinator.tags == [TaskTag("tier", "cloud")])
        #expect(service.edgeWorker.model.name == "small-model")
        #expect(service.edgeWorker.nodeName == "edge-node")
        #expect(service.edgeWorker.hardExampleMining.name == "IBT")
        #expect(service.edgeWorker.workerSpec.parameters == [Parameter(key: "input_shape", value: "416,736")])
        #expect(service.cloudWorker.model.name == "big-model")
        #expect(service.cloudWorker.nodeName == nil)
        #expect(service.cloudWorker.workerSpec.script.bootFile == .python(path: "big_model_inference.py"))
    }
}
