import Foundation
import StarlingLearning
import StarlingLocalAPI

enum IncrementalTourLimits {
    static let job = "digits-learning"
    static let dataset = "incoming"
    static let deployedModel = "digits-learned"
    /// The train trigger: more than this many new training rows, checked this often.
    static let trainThresholdRows = 300
    static let checkPeriodSeconds = 2
    static let epochs = 20
    /// How long version 1 has to serve after the submission, a trigger check to count an
    /// arrival, and the cycle to serve version 2 once the rows are in (a failover included).
    static let firstVersionSeconds = 40.0
    static let checkSeconds = 15.0
    static let cycleSeconds = 120.0
    /// Requests in flight at once during the cycle.
    static let loadConcurrency = 2
    /// The swap: requests started this close to the first answer by the new version.
    static let swapWindowSeconds = 1.0
    /// The load goes on this long after the new version serves.
    static let afterSwapSeconds = 1.0
}

/// Part 3 of `starling demo` (alone: `--only incremental`): incremental learning. An
/// IncrementalLearningJob at edge-1 starts from the federated model (version 1, which never saw
/// the digits 7-9) on the dataset `incoming` registered there; labelled digits of every class
/// arrive in two batches (`starling dataset append`); the first is too few for the train trigger,
/// the second fires it; the candidate is trained, evaluated against version 1 and deployed hot as
/// version 2 while a load of requests runs against the job's name through edge-1's HTTP endpoint
/// (none may fail). Each step prints as the job commits it. With chaos the job's coordinator (a
/// cloud peer) is killed (`kill -9`) while a stage runs: the other cloud peer takes over and the
/// candidate is still deployed once.
struct IncrementalTour {
    let tour: Tour

    func run() throws -> TourOutcome {
        let cluster = tour.cluster, data = tour.data
        let port = cluster.httpPort(Tour.gateway), job = IncrementalTourLimits.job
        printNow("\n== 3. incremental learning: the served model keeps learning from labelled digits arriving at \(Tour.gateway)")
        let (base, batches) = data.incoming
        let basePath = try tour.write(DatasetFile.encodeCSV(base), "incoming.csv")
        printNow("$ starling dataset add \(IncrementalTourLimits.dataset) --path incoming.csv --peer \(Tour.gateway)   "
            + "(\(base.count) digits \(data.knownText))")
        try cluster.addDataset(IncrementalTourLimits.dataset, path: basePath, on: Tour.gateway)
        let specPath = try tour.write(Array(Self.spec(boot: tour.model.rawValue).utf8), "\(job).yaml")
        _ = try cluster.submit(specPath, through: "cloud-1")
        printNow("$ starling task submit \(job).yaml   (an IncrementalLearningJob: initialModel \(Tour.modelName), "
            + "train when num_of_samples > \(IncrementalTourLimits.trainThresholdRows) (checked every "
            + "\(IncrementalTourLimits.checkPeriodSeconds) s), deploy hot when accuracy_delta > 0)")
        try waitFor("version 1 to serve at \(Tour.gateway)", seconds: IncrementalTourLimits.firstVersionSeconds) {
            tour.task(job)?.job?.servedVersion == 1
        }
        let before = try measure(port: port)
        printNow("\(tour.clock)  version 1 (the \(Tour.modelName) model) serves as \(job) at \(Tour.gateway): "
            + "\(before.text(data)) on the held-out digits")

        printNow("a load starts: \(IncrementalTourLimits.loadConcurrency) requests at a time to "
            + "POST http://127.0.0.1:\(port)/v2/models/\(job)/infer until the new version serves")
        let load = InferenceLoad(port: port, service: job, concurrency: IncrementalTourLimits.loadConcurrency).start(data.test)
        let watch = JobWatch(tour: tour)
        do {
            try append(batches[0], number: 1)
            try watch.waitForNewCheck()
            try append(batches[1], number: 2)
            try watch.follow()
        } catch {
            _ = load.stop()
            throw error
        }
        usleep(useconds_t(IncrementalTourLimits.afterSwapSeconds * 1_000_000))
        let results = load.stop()
        let problems = try report(results, watch: watch)
        let after = try measure(port: port)
        printNow("version 2 serves: \(after.text(data)) on the held-out digits (version 1: \(before.text(data)))")
        printNow("\n$ starling model versions \(IncrementalTourLimits.deployedModel) --peer \(Tour.gateway)")
        printNow(try cluster.starling(["model", "versions", IncrementalTourLimits.deployedModel, "--peer", cluster.directory(Tour.gateway)]))
        return TourOutcome(part: .incremental, before: "\(before.text(data)): version 1",
                           after: "\(after.text(data)): version 2, deployed hot", problems: problems)
    }

    /// `starling dataset append incoming --path batch-N.csv --peer edge-1`, through the local API as the CLI does it.
    private func append(_ batch: LabeledData, number: Int) throws {
        let path = try tour.write(DatasetFile.encodeCSV(batch), "batch-\(number).csv")
        let counts = (0..<10).map { label in batch.labels.filter { $0 == label }.count }
        printNow("\n\(tour.clock)  $ starling dataset append \(IncrementalTourLimits.dataset) --path batch-\(number).csv "
            + "--peer \(Tour.gateway)   (\(batch.count) labelled digits, per label \(counts))")
        let answer = try tour.cluster.request(Tour.gateway, .datasetAppend(name: IncrementalTourLimits.dataset, path: path, format: nil),
                                              as: DatasetAppendResponse.self)
        guard answer.ok else { throw CLIError("dataset append refused: \(answer.message)") }
        printNow(answer.message)
    }

    /// The served model's answers to the held-out digits, one request each, through edge-1's endpoint.
    private func measure(port: Int) throws -> TourAccuracy {
        let results = InferenceLoad(port: port, service: IncrementalTourLimits.job, concurrency: 1).send(tour.data.test)
        if let failure = results.first(where: { $0.failure != nil })?.failure {
            throw CLIError("the held-out digits could not be answered by \(IncrementalTourLimits.job): \(failure)")
        }
        return TourAccuracy(predicted: results.map { ($0.index, $0.predicted) }, data: tour.data)
    }

    /// The load's numbers: requests by version, failures, p99 during the swap and overall; the
    /// deploys in the history. What went wrong, for the summary.
    private func report(_ results: [InferenceResult], watch: JobWatch) throws -> [String] {
        var problems: [String] = []
        let failed = results.filter { $0.failure != nil }
        let byVersion = Dictionary(grouping: results.compactMap(\.version), by: { $0 }).mapValues(\.count)
        let firstNew = results.first { $0.version == 2 }?.started
        let swap = firstNew.map { first in
            results.filter { abs($0.started.timeIntervalSince(first)) <= IncrementalTourLimits.swapWindowSeconds }
        } ?? []
        printNow("\nthe load: \(results.count) requests; " + byVersion.sorted { $0.key < $1.key }
            .map { "\($0.value) answered by version \($0.key)" }.joined(separator: ", ")
            + "; \(failed.count) failed; p99 \(InferenceTour.milliseconds(results, 0.99)) overall, "
            + "\(InferenceTour.milliseconds(swap, 0.99)) during the swap (\(swap.count) requests within "
            + "\(Int(IncrementalTourLimits.swapWindowSeconds)) s of the first answer by version 2)")
        if let first = failed.first?.failure {
            printNow("first failure: \(first)")
            problems.append("\(failed.count) requests failed during the hot deploy")
        }
        let history = tour.task(IncrementalTourLimits.job)?.job?.history ?? []
        let deploys = history.filter { $0.text.hasPrefix("deployed version 2") }.count
        printNow("history: \(history.filter { $0.text.hasPrefix("deployed version") }.count) deploys "
            + "(version 1, then the candidate: `deployed version 2` \(deploys == 1 ? "once" : "\(deploys) times"))")
        if deploys != 1 { problems.append("version 2 was deployed \(deploys) times") }
        return problems
    }

    private func waitFor(_ what: String, seconds: Double, _ done: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            try tour.checkPeers()
            if try done() { return }
            usleep(200_000)
        }
        throw CLIError("waited \(Int(seconds)) s for \(what)" + tour.logsHint)
    }

    static func spec(boot: String) -> String {
        """
        apiVersion: edgeai.io/v1alpha1
        kind: IncrementalLearningJob
        metadata:
          name: \(IncrementalTourLimits.job)
        spec:
          coordinator:
            tags:
              tier: cloud
          initialModel:
            name: \(Tour.modelName)
          dataset:
            name: \(IncrementalTourLimits.dataset)
            trainProb: 0.8
          trainSpec:
            workerSpec:
              scriptBootFile: builtin:\(boot)
              parameters:
                - key: epochs
                  value: "\(IncrementalTourLimits.epochs)"
                - key: learning_rate
                  value: "0.5"
            trigger:
              checkPeriodSeconds: \(IncrementalTourLimits.checkPeriodSeconds)
              condition:
                operator: gt
                threshold: \(IncrementalTourLimits.trainThresholdRows)
                metric: num_of_samples
          evalSpec:
            workerSpec:
              scriptBootFile: builtin:\(boot)
          deploySpec:
            model:
              name: \(IncrementalTourLimits.deployedModel)
              hotUpdateEnabled: true
            workerSpec:
              scriptBootFile: builtin:\(boot)
            trigger:
              checkPeriodSeconds: 1
              condition:
                operator: gt
                threshold: 0
                metric: accuracy_delta

        """
    }
}
