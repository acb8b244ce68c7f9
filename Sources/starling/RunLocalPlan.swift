import Foundation
import StarlingMembership
import StarlingTasks
import StarlingTrust

/// How `starling task run-local` lays a FederatedTask out on local peers, checked before anything
/// starts:
///
/// - one peer per dataset the training workers name, holding it (so placement by dataset puts the
///   workers there); a dataset whose workers give a `nodeName` is held by a peer of that name (two
///   names for one dataset cannot be met; datasets pinned to one name share its peer); the others
///   are `edge-1`, `edge-2`, ... in the order the spec first names their datasets;
/// - one coordinator peer, `cloud`, the only one with the coordinator (and submit) role; it holds
///   the central evaluation's dataset (`aggregationWorker.evaluation.dataset`), since only peers
///   declaring that dataset may coordinate;
/// - every peer carries the spec's `spec.placement.tags`, the coordinator also its
///   `spec.coordinator.tags`, so the spec's own rules place and elect as written.
struct RunLocalPlan: Equatable {
    static let coordinatorName = "cloud"
    static let holderPrefix = "edge-"

    struct Holder: Equatable {
        let peer: LocalPeer
        /// The datasets it registers, in the order the spec first names them.
        let datasets: [String]
    }

    /// The peers holding the training workers' datasets.
    let holders: [Holder]
    let coordinator: Holder

    /// Every peer, the coordinator first (the others join through it).
    var peers: [LocalPeer] { [coordinator.peer] + holders.map(\.peer) }

    /// Every peer with the datasets it registers, the coordinator first.
    var registrations: [Holder] { [coordinator] + holders }

    /// The plan for `spec` with the datasets `given` (`--dataset` names), or every problem found.
    static func make(_ spec: TaskSpec, given: Set<String>) -> Result<RunLocalPlan, CLIError> {
        guard let federated = spec.federatedTask else {
            return .failure(CLIError("run-local runs FederatedTask specs; \(spec.kind.name) is validated but not run yet"))
        }
        var problems: [String] = []
        // Training datasets in the order first named, with the workers that train on them.
        var datasets: [String] = []
        var workers: [String: [TrainingWorker]] = [:]
        for worker in federated.trainingWorkers {
            if workers[worker.dataset.name] == nil { datasets.append(worker.dataset.name) }
            workers[worker.dataset.name, default: []].append(worker)
        }
        let evaluation = federated.aggregationWorker.evaluationDataset?.name
        var users = datasets.map { dataset in "\(dataset) (\(workers[dataset]!.map(\.name).joined(separator: ", ")))" }
        if let evaluation, workers[evaluation] == nil { users.append("\(evaluation) (the central evaluation)") }
        let needed = datasets + (evaluation.map { [$0] } ?? [])
        let missing = zip(needed, users).filter { !given.contains($0.0) }.map(\.1)
        if !missing.isEmpty {
            problems.append("the spec uses datasets not given: \(missing.joined(separator: ", ")); give each as --dataset NAME=PATH")
        }
        let extra = given.subtracting(needed).sorted()
        if !extra.isEmpty {
            problems.append("--dataset \(extra.joined(separator: ", ")): \(spec.name) does not use \(extra.count == 1 ? "it" : "them") "
                + "(it uses \(Array(Set(needed)).sorted().joined(separator: ", ")))")
        }

        // The peer each dataset goes to: the nodeName its workers give, else a fresh edge-N.
        var pinned: [String: String] = [:]
        for dataset in datasets {
            let names = Set(workers[dataset]!.compactMap(\.nodeName))
            if names.count > 1 {
                let listed = workers[dataset]!.filter { $0.nodeName != nil }.map { "\($0.name) on \($0.nodeName!)" }
                problems.append("dataset \(dataset) is trained by workers pinned to different peers (\(listed.joined(separator: ", "))): "
                    + "run-local starts one peer per dataset; give its workers one nodeName, or none")
            } else if let name = names.first {
                if let problem = NodeName.problem(with: name) {
                    problems.append("nodeName \(name): not a peer name (\(problem))")
                } else if name == "." || name == ".." {
                    problems.append("nodeName \(name): not a peer name run-local can give (it names a peer's directory)")
                }
                pinned[dataset] = name
            }
        }
        let taken = Set(pinned.values)
        var fresh = (1...).lazy.map { "\(holderPrefix)\($0)" }.filter { !taken.contains($0) }.makeIterator()
        var order: [String] = []
        var held: [String: [String]] = [:]
        for dataset in datasets {
            let name = pinned[dataset] ?? fresh.next()!
            if held[name] == nil { order.append(name) }
            held[name, default: []].append(dataset)
        }
        if order.count + 1 > RunLocalLimits.peersMax {
            problems.append("the spec needs \(order.count) peers for its datasets and one coordinator; run-local starts at most "
                + "\(RunLocalLimits.peersMax) on one machine")
        }
        for name in order where held[name]!.count > DatasetTags.datasetsMax {
            problems.append("peer \(name) would hold \(held[name]!.count) datasets (\(held[name]!.joined(separator: ", "))); "
                + "a peer holds at most \(DatasetTags.datasetsMax)")
        }
        var coordinatorName = Self.coordinatorName
        var suffix = 1
        while held[coordinatorName] != nil {
            suffix += 1
            coordinatorName = "\(Self.coordinatorName)-\(suffix)"
        }

        // Tags: the placement tags on every peer, the coordinator tags too on the coordinator.
        var coordinatorTags = spec.placement.tags
        for tag in spec.coordinator.tags {
            if let placed = spec.placement.tags.first(where: { $0.key == tag.key }) {
                if placed.value != tag.value {
                    problems.append("spec.coordinator.tags.\(tag.key) is \(tag.value) but spec.placement.tags.\(tag.key) is "
                        + "\(placed.value): no peer can both run the task and coordinate it")
                }
            } else {
                coordinatorTags.append(tag)
            }
        }
        let holderTags = tagsArgument(spec.placement.tags, field: "spec.placement.tags", problems: &problems)
        let coordinatorArgument = tagsArgument(coordinatorTags.sorted(), field: "spec.placement.tags and spec.coordinator.tags",
                                               problems: &problems)
        guard problems.isEmpty else { return .failure(CLIError(problems.joined(separator: "\n"))) }
        return .success(RunLocalPlan(
            holders: order.map { Holder(peer: LocalPeer(name: $0, roles: "peer", tags: holderTags), datasets: held[$0]!) },
            coordinator: Holder(peer: LocalPeer(name: coordinatorName, roles: "peer,coordinator,submit", tags: coordinatorArgument),
                                datasets: evaluation.map { [$0] } ?? [])))
    }

    /// `tags` as a peer's `--tags` argument, checked the way `starling peer` reads it: a tag that
    /// would not read back as written (a ',' in it, an '=' in its key, spaces around a key or
    /// value) and the peer's own limits (count, bytes) are problems.
    private static func tagsArgument(_ tags: [TaskTag], field: String, problems: inout [String]) -> String {
        let unreadable = tags.filter { tag in
            tag.key.contains(",") || tag.key.contains("=") || tag.value.contains(",")
                || tag.key.trimmingCharacters(in: .whitespaces) != tag.key || tag.value.trimmingCharacters(in: .whitespaces) != tag.value
        }
        if !unreadable.isEmpty {
            problems.append("\(field): \(unreadable.map { "\($0.key): \($0.value)" }.joined(separator: ", ")) cannot be given to a "
                + "peer's --tags (a ',' in a key or value, an '=' in a key, or spaces around one)")
            return ""
        }
        let argument = tags.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        do {
            _ = try PeerCommand.parseTags(argument, settings: MembershipSettings())
        } catch {
            problems.append("\(field): \(error)")
        }
        return argument
    }
}
