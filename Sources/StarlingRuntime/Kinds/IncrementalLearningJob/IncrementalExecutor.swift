import StarlingCrypto
import StarlingPeer
import StarlingTasks

/// The runtime's IncrementalLearningJob executor (`TaskWork.incremental`): train, evaluate,
/// combine. Serving the deployed version goes through the `ServingExecutor`.
final class IncrementalExecutor {
    unowned let runner: TaskRunner

    init(runner: TaskRunner) {
        self.runner = runner
    }

    func perform(_ work: IncrementalWork) {
        let (round, kind): (UInt64, IncrementalWorkResult.Work)
        switch work {
        case let .train(order): (round, kind) = (order.round, .train)
        case let .evaluate(order): (round, kind) = (order.round, .evaluate)
        case let .combine(order): (round, kind) = (order.round, .combine)
        }
        runner.answer(.incremental(.failed(task: work.task, round: round, work: kind,
                                           reason: "this peer's runtime does not run IncrementalLearningJob stages yet")))
    }

    func release(_ task: TaskID) {}
    func shutdown() {}
}
