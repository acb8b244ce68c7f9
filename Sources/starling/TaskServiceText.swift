import Foundation
import StarlingLocalAPI

/// `task status` of a JointInferenceService: a service has deployments, not rounds, and no
/// participants announced; what it shows instead is the deployment every peer agrees on, its
/// peers, and what the answering peer serves (docs/cli.md, "task status of a service").
extension TaskCommand {
    /// The service's lines, in place of the round, participants and committed lines of a task.
    static func serviceText(_ service: ServiceReport, names: [String: String]) -> String {
        func peers(_ list: [ServiceReport.Peer]) -> String {
            list.isEmpty ? "none" : list.map { "\(display($0.node, name: $0.nodeName, names: names)) \($0.up ? "up" : "down")" }
                .joined(separator: ", ")
        }
        var text = "deployment   version \(service.version)\n"
        text += "edge model   \(service.edgeModelName) \(service.edgeModel.prefix(16))\n"
        text += "cloud model  \(service.cloudModelName) \(service.cloudModel.prefix(16))\n"
        text += "edge peers   \(peers(service.edgePeers))\n"
        text += "cloud peers  \(peers(service.cloudPeers))\n"
        text += "mining       \(service.hardExampleMining)\n"
        guard let local = service.local else { return text + "serving      none on this peer\n" }
        let versions = local.roles.map { role in "\(role)" + (local.versions[role].map { " version \($0)" } ?? " (not loaded)") }
        text += "serving      \(versions.joined(separator: ", "))\n"
        return text + servingStatsText(local, names: names)
    }

    /// What a peer answered since it started serving (a service's edge or cloud, a job's deploy
    /// worker), indented under its `serving` line.
    static func servingStatsText(_ local: ServingReport, names: [String: String]) -> String {
        var text = "  requests       \(local.requests) answered, \(local.refused) refused\n"
        let counts = InferReport.ordered(local.examples.mapValues { Int(clamping: $0) })
        text += "  examples       " + (counts.isEmpty ? "none" : counts.map { "\($0.0) \($0.1)" }.joined(separator: ", ")) + "\n"
        text += String(format: "  hard share     %.4f", local.hardShare) + " (\(local.hardExamples) hard examples)\n"
        text += "  bad scores     \(local.badScores)\n"
        if local.roles.contains("cloud") { text += "  cloud served   \(local.cloudServed) hard examples for edges\n" }
        text += "  fallbacks      " + (local.fallbackReasons.isEmpty ? "none"
            : local.fallbackReasons.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: "; ")) + "\n"
        let order = InferReport.ordered(local.latency.mapValues { Int($0["count"] ?? 0) }).map(\.0)
        let latencies = order.compactMap { path -> String? in
            guard let stats = local.latency[path] else { return nil }
            return "\(path) p50 \(InferReport.milliseconds(stats["p50_ms"] ?? 0)) p99 \(InferReport.milliseconds(stats["p99_ms"] ?? 0))"
                + " (\(Int(stats["count"] ?? 0)))"
        }
        text += "  latency        " + (latencies.isEmpty ? "none yet" : latencies.joined(separator: ", ")) + "\n"
        text += "  open circuits  " + (local.openCircuits.isEmpty ? "none"
            : local.openCircuits.map { display($0, name: nil, names: names) }.joined(separator: ", ")) + "\n"
        return text
    }

    /// `task watch`'s line for a new deployment of a service (nil: none new).
    static func deploymentChange(from old: TaskReport?, to new: TaskReport) -> String? {
        guard let service = new.service, old?.service?.version != service.version else { return nil }
        return "deployment version \(service.version): edge model \(service.edgeModelName) \(service.edgeModel.prefix(16)), "
            + "cloud model \(service.cloudModelName) \(service.cloudModel.prefix(16))"
    }

    /// `task list`'s ROUND column: last committed of rounds, a service's deployment version, or a
    /// job's version and stage.
    static func progress(_ task: TaskReport) -> String {
        if let service = task.service { return "v\(service.version)" }
        if let job = task.job { return jobProgress(job) }
        if isService(task) || isJob(task) { return "-" }
        return "\(task.round)/\(task.rounds)"
    }
}
