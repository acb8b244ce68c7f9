@testable import StarlingRuntime
import StarlingTasks
import Testing

/// The environment a worker is started with (docs/workers.md).
struct WorkerLaunchTests {
    @Test func starlingParametersTypeCustomValuesAndCarryTheAggregationWorkersOnes() {
        let aggregation = AggregationWorker(algorithm: .fedProx, extraParameters: [
            Parameter(key: "proximal_mu", value: "0.1"), Parameter(key: "server_momentum", value: "0.5"),
            Parameter(key: "momentum_decay", value: "0.5"), Parameter(key: "shuffle", value: "true"),
            Parameter(key: "optimizer", value: "adam"), Parameter(key: "note", value: nil),
        ])
        let worker = TrainingWorker(
            name: "w0", dataset: DatasetRef(name: "digits"), script: ScriptSpec(bootFile: .python(path: "/code/main.py")),
            hyperparameters: Hyperparameters(batchSize: 64, learningRate: 0.05, epochs: 2),
            extraParameters: [Parameter(key: "optimizer", value: "sgd"), Parameter(key: "num_classes", value: "10"),
                              Parameter(key: "path", value: "/data/x")])
        let spec = TaskSpec(name: "params", kind: .federatedTask(FederatedTaskSpec(
            aggregationWorker: aggregation, trainingWorkers: [worker], rounds: RoundSettings(rounds: 3, minNodeNumber: 1))))
        #expect(WorkerLaunch.parametersJSON(spec, worker: worker) == #"{"aggregation":"FedProx","batch_size":64,"epochs":2,"#
            + #""learning_rate":0.05,"momentum_decay":0.5,"note":null,"num_classes":10,"optimizer":"sgd","path":"/data/x","#
            + #""proximal_mu":0.1,"rounds":3,"shuffle":true}"#)
    }
}
