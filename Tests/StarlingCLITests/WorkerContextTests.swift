import StarlingWorker
import Testing

/// The Swift Lib reads STARLING_PARAMETERS as the peer writes it (docs/workers.md).
struct WorkerContextTests {
    static let environment = [
        "STARLING_SOCKET": "/tmp/peer/starling.sock", "STARLING_TASK": String(repeating: "ab", count: 32),
        "STARLING_WORKER": "w0", "STARLING_WORKER_TOKEN": "secret", "STARLING_DATASET_PATH": "/data/digits.csv",
        "STARLING_WORK_DIR": "/tmp/work", "STARLING_SEED": "7",
        "STARLING_PARAMETERS": #"{"aggregation":"FedAvg","batch_size":1,"epochs":1,"learning_rate":0.5,"note":null,"#
            + #""proximal_mu":0,"shuffle":true,"strict":false}"#,
    ]

    @Test func numbersBooleansTextAndKeysWithoutAValueAreKeptApart() throws {
        let context = try WorkerContext.fromEnvironment(Self.environment)
        #expect(context.parameters == [
            "aggregation": .text("FedAvg"), "batch_size": .number(1), "epochs": .number(1), "learning_rate": .number(0.5),
            "note": WorkerParameter.empty, "proximal_mu": .number(0), "shuffle": .boolean(true), "strict": .boolean(false),
        ])
        // 1 and 0 are numbers: on Linux, JSONSerialization's NSNumber 1 passes for a Bool.
        #expect(context.number("batch_size", default: 32) == 1)
    }

    @Test func parametersThatAreNotAnObjectAreAnError() {
        var environment = Self.environment
        environment["STARLING_PARAMETERS"] = "[1]"
        #expect(throws: WorkerError.self) { try WorkerContext.fromEnvironment(environment) }
    }
}
