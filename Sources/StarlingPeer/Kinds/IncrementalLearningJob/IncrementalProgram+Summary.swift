import StarlingTasks

extension IncrementalProgram {
    static func summarize(_ task: Task, into summary: inout TaskSummary, host: some TaskHost) {
        guard let view = task.view.incremental else { return }
        let position = view.position
        let history = view.steps.suffix(TaskSummary.jobHistoryMax).map(\.transition)
        summary.job = TaskSummary.Job(
            cycle: view.cycle, stage: position.stage, status: position.status, since: view.last?.at, current: view.current,
            versions: view.versions, history: Array(history), steps: view.steps.count, trainCheck: nil, waitingFor: nil,
            servedVersion: nil, servingFailure: nil, deploysHere: JobPeers.deploysHere(task, host: host),
            dataset: task.spec.dataset.name, deployModelName: task.spec.deploySpec.model.name)
    }
}
