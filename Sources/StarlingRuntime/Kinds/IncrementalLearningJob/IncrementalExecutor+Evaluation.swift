import StarlingPeer
import StarlingTasks

extension IncrementalExecutor {
    func evaluate(_ order: JobEvalWork) {
        answer(.failed(task: order.task, round: order.round, work: .evaluate, reason: "evaluation workers are not wired yet"))
    }

    func releaseEvaluations(_ task: TaskID) {}
    func shutdownEvaluations() {}
}
