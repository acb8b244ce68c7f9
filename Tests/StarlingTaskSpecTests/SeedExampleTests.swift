import StarlingTaskYAML
import StarlingTasks
import StarlingWire
import Testing

/// The seed's own example must be accepted exactly as written, and mean the same task as its tidy form.
@Suite struct SeedExampleTests {
    @Test func theSeedFixtureIsTheSeedFileAndTheExampleCopy() throws {
        let fixture = try SpecFiles.text(SpecFiles.fixture("federatedtask-seed.yaml"))
        #expect(fixture == (try SpecFiles.text(SpecFiles.example("federatedtask-seed.yaml"))))
        #expect(fixture.contains("trainScriptBootFile : /code/main.py"))
        #expect(fixture.contains("frameworkVersion: 1.12\n"))
    }

    @Test func theSeedExampleIsAcceptedAsWritten() throws {
        let loaded = try SpecFiles.valid(try SpecFiles.text(SpecFiles.fixture("federatedtask-seed.yaml")))
        let spec = loaded.spec
        #expect(spec.name == "example-federatedtask")
        #expect(spec.kind.name == "FederatedTask")
        let task = try #require(spec.federatedTask)
        #expect(task.aggregationWorker.name == "aggregation-worker")
        #expect(task.aggregationWorker.model == ModelRef(name: "resnet50"))
        #expect(task.aggregationWorker.algorithm == .fedAvg)
        #expect(task.trainingWorkers.map(\.name) == ["work0", "work1", "work2"])

        let first = task.trainingWorkers[0]
        #expect(first.nodeName == "edge0")
        #expect(first.placement == .node("edge0"))
        #expect(first.dataset == DatasetRef(name: "dataset0"))
        #expect(first.script == ScriptSpec(directory: "/code/", bootFile: .python(path: "/code/main.py"),
                                          frameworkType: "tensorflow", frameworkVersion: "1.12"))
        #expect(first.hyperparameters == Hyperparameters(batchSize: 32, learningRate: 0.001, epochs: 1))

        // work1 and work2 name only themselves: everything else comes from work0, but not the node.
        for worker in task.trainingWorkers.dropFirst() {
            #expect(worker.nodeName == nil)
            #expect(worker.placement == .byDataset("dataset0"))
            #expect(worker.placement.description == "placement: by dataset dataset0")
            #expect(worker.dataset == first.dataset)
            #expect(worker.script == first.script)
            #expect(worker.hyperparameters == first.hyperparameters)
        }
        // Parameters listed without a value take their defaults.
        #expect(task.rounds == RoundSettings(rounds: 10, minNodeNumber: 3, roundTimeout: .seconds(300), roundsBetweenValidations: 1))
    }

    @Test func theSeedFormIsReadWithWarningsNamingBothForms() throws {
        let loaded = try SpecFiles.valid(try SpecFiles.text(SpecFiles.fixture("federatedtask-seed.yaml")))
        #expect(loaded.warnings.map(\.description) == [
            "line 17: warning: spec.aggregationWorker.trainingWorkers: read as spec.trainingWorkers (the seed example's form); the tidy form is spec.trainingWorkers",
            "line 21: warning: spec.aggregationWorker.trainingWorkers[0].workerSpec.dataset: read trainScriptDir, trainScriptBootFile, frameworkType, frameworkVersion under dataset (the seed example's form); the tidy form puts them in spec.aggregationWorker.trainingWorkers[0].workerSpec",
        ])
    }

    @Test func theTidyFormGivesTheSameSpecWithoutWarnings() throws {
        let seed = try SpecFiles.valid(try SpecFiles.text(SpecFiles.fixture("federatedtask-seed.yaml")))
        let tidy = try SpecFiles.valid(try SpecFiles.text(SpecFiles.example("federatedtask-seed-tidy.yaml")))
        #expect(tidy.spec == seed.spec)
        #expect(tidy.spec.wireBytes == seed.spec.wireBytes)
        #expect(tidy.warnings.isEmpty)
    }

    @Test func bothFormsThatAgreeAreReadOnceWithAWarning() throws {
        let text = try SpecFiles.text(SpecFiles.fixture("federatedtask-seed.yaml"))
            .replacingOccurrences(of: "            frameworkVersion: 1.12\n",
                                  with: "            frameworkVersion: 1.12\n          trainScriptDir: /code/\n")
        let loaded = try SpecFiles.valid(text)
        #expect(loaded.spec == (try SpecFiles.valid(try SpecFiles.text(SpecFiles.fixture("federatedtask-seed.yaml")))).spec)
        #expect(loaded.warnings.map(\.pathAndMessage).dropFirst() == [
            "spec.aggregationWorker.trainingWorkers[0].workerSpec.dataset.trainScriptDir: the same value as spec.aggregationWorker.trainingWorkers[0].workerSpec.trainScriptDir, given twice; read spec.aggregationWorker.trainingWorkers[0].workerSpec.trainScriptDir",
            "spec.aggregationWorker.trainingWorkers[0].workerSpec.dataset: read trainScriptBootFile, frameworkType, frameworkVersion under dataset (the seed example's form); the tidy form puts them in spec.aggregationWorker.trainingWorkers[0].workerSpec",
        ])
    }

    @Test func frameworkVersionKeepsItsSourceText() throws {
        for version in ["1.12", "1.10", "2.0", "1e3", "0x10"] {
            let text = try SpecFiles.text(SpecFiles.fixture("federatedtask-seed.yaml"))
                .replacingOccurrences(of: "frameworkVersion: 1.12", with: "frameworkVersion: \(version)")
            let task = try #require(try SpecFiles.valid(text).spec.federatedTask)
            #expect(task.trainingWorkers.allSatisfy { $0.script.frameworkVersion == version })
        }
    }
}
