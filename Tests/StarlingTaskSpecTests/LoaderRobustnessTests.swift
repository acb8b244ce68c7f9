import StarlingTaskYAML
import StarlingTasks
import Testing

/// Whatever the bytes, the loader answers with a spec or errors: it never traps.
@Suite struct LoaderRobustnessTests {
    @Test func everyBytePositionOfTheSeedMutatedNeverCrashesTheLoader() throws {
        let seed = Array(try SpecFiles.text(SpecFiles.fixture("federatedtask-seed.yaml")).utf8)
        let replacements: [UInt8] = [0x00, 0x20, 0x0A, 0x3A, 0x2D, 0x26, 0x2A, 0x22, 0x7B, 0xFF]
        var loaded = 0, refused = 0
        for position in seed.indices {
            for value in replacements where seed[position] != value {
                var bytes = seed
                bytes[position] = value
                switch TaskSpecLoader.load(bytes: bytes) {
                case let .success(result):
                    loaded += 1
                    #expect(try TaskSpec(wireBytes: result.spec.wireBytes) == result.spec)
                case let .failure(errors):
                    refused += 1
                    #expect(!errors.errors.isEmpty)
                    #expect(errors.issues.count <= TaskSpecLimits.issuesMax)
                }
            }
            // Deleting the byte as well.
            var shorter = seed
            shorter.remove(at: position)
            _ = TaskSpecLoader.load(bytes: shorter)
        }
        #expect(loaded > 0 && refused > 0)
    }

    @Test func anAliasBombIsRefusedByTheNodeLimit() {
        var yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            let previous = "*a\(level - 1)"
            yaml += "a\(level): &a\(level) [\(Array(repeating: previous, count: 10).joined(separator: ", "))]\n"
        }
        let errors = SpecFiles.errors(yaml)
        #expect(errors.map(\.message) == ["more than \(TaskSpecLimits.nodesMax) values (aliases included): refused"])
    }

    @Test func aFileOverTheSizeLimitIsRefused() {
        let yaml = "# " + String(repeating: "x", count: TaskSpecLimits.specBytesMax) + "\n"
        #expect(SpecFiles.errors(yaml).map(\.message) == ["the file is \(yaml.utf8.count) bytes, more than the limit of \(TaskSpecLimits.specBytesMax)"])
    }

    @Test func deepNestingIsRefused() {
        let yaml = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
        #expect(SpecFiles.errors(yaml).map(\.message) == ["nested more than \(TaskSpecLimits.depthMax) levels deep: refused"])
    }

    @Test func bytesThatAreNotUTF8AreRefusedWithTheirLine() {
        guard case let .failure(errors) = TaskSpecLoader.load(bytes: Array("kind: x\nname: ".utf8) + [0xC3, 0x28]) else {
            Issue.record("expected an error")
            return
        }
        #expect(errors.issues.map(\.description) == ["line 2: error: not valid YAML: the file is not UTF-8 text (byte 14)"])
    }

    @Test func theWorkerLimitIsReachedAndEnforced() throws {
        func spec(workers: Int) -> String {
            var yaml = "apiVersion: edgeai.io/v1alpha1\nkind: FederatedTask\nmetadata:\n  name: many\nspec:\n  trainingWorkers:\n"
            yaml += "    - name: w0\n      workerSpec:\n        dataset: {name: digits}\n        trainScriptBootFile: builtin:mlp\n"
            for index in 1..<workers { yaml += "    - name: w\(index)\n" }
            return yaml
        }
        let atLimit = try SpecFiles.valid(spec(workers: TaskSpecLimits.workersMax)).spec
        #expect(atLimit.federatedTask?.trainingWorkers.count == TaskSpecLimits.workersMax)
        #expect(atLimit.federatedTask?.rounds.minNodeNumber == TaskSpecLimits.workersMax)
        #expect(try TaskSpec(wireBytes: atLimit.wireBytes) == atLimit)
        #expect(SpecFiles.errors(spec(workers: TaskSpecLimits.workersMax + 1)).map(\.pathAndMessage)
            == ["spec.trainingWorkers: has 1001 training workers, more than the limit of 1000"])
    }

    @Test func theParameterLimitIsReachedAndEnforced() throws {
        func spec(parameters: Int) -> String {
            var yaml = "apiVersion: edgeai.io/v1alpha1\nkind: FederatedTask\nmetadata:\n  name: many\nspec:\n  trainingWorkers:\n"
            yaml += "    - name: w0\n      workerSpec:\n        dataset: {name: digits}\n        trainScriptBootFile: builtin:mlp\n        parameters:\n"
            for index in 0..<parameters { yaml += "          - {key: p\(index), value: \(index)}\n" }
            return yaml
        }
        #expect(try SpecFiles.valid(spec(parameters: TaskSpecLimits.parametersMax)).spec.federatedTask?.trainingWorkers[0].extraParameters.count
            == TaskSpecLimits.parametersMax)
        #expect(SpecFiles.errors(spec(parameters: TaskSpecLimits.parametersMax + 1)).map(\.pathAndMessage)
            == ["spec.trainingWorkers[0].workerSpec.parameters: has 65 parameters, more than the limit of 64"])
    }

    @Test func theIssueCountIsCapped() {
        var yaml = "apiVersion: edgeai.io/v1alpha1\nkind: FederatedTask\nmetadata:\n  name: many\nspec:\n"
        for index in 0..<300 { yaml += "  unknown\(index): 1\n" }
        let errors = SpecFiles.errors(yaml)
        #expect(errors.count == TaskSpecLimits.issuesMax)
        #expect(errors.last?.message == "too many problems: stopped after \(TaskSpecLimits.issuesMax - 1)")
    }
}
