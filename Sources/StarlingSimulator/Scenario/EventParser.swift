import StarlingTaskYAML
import StarlingTasks

/// One entry of `events:`: `at` plus exactly one action and that action's options.
enum EventParser {
    static let actions = [
        "crash", "restart", "partition", "heal", "join", "leave", "slow", "loss", "revoke", "submit", "crash_coordinator",
    ]
    /// Option → the actions it applies to.
    static let options: [String: [String]] = [
        "store": ["crash", "crash_coordinator"], "restart_after": ["crash", "crash_coordinator"],
        "extra_delay": ["slow"], "to": ["submit"], "failing_workers": ["submit"],
    ]
    static let keys = ["at"] + actions + options.keys.sorted()

    static func store(_ field: YAMLField) throws -> Bool {
        switch try field.string() {
        case "survives": return true
        case "lost": return false
        default: throw field.error("expected survives or lost, got \(field.kind)")
        }
    }

    /// `directory`: the scenario file's folder, against which `submit` paths are read ("" for the
    /// working directory).
    static func parse(_ item: YAMLField, _ context: SelectionContext, directory: String = "") throws -> ScenarioEvent {
        let fields = try item.mapping(known: keys)
        guard let at = fields["at"] else { throw item.error("needs at (when the event happens, e.g. 60s)") }
        let present = actions.filter { fields[$0] != nil }
        guard present.count == 1, let kind = present.first, let value = fields[kind] else {
            throw item.error(present.isEmpty
                ? "needs one action: \(actions.joined(separator: ", "))"
                : "has several actions (\(present.joined(separator: ", "))): use one event per action")
        }
        for (option, owners) in options.sorted(by: { $0.key < $1.key }) where fields[option] != nil && !owners.contains(kind) {
            throw fields[option]!.error("applies to \(owners.joined(separator: " and ")) events only")
        }
        let action: ScenarioAction
        switch kind {
        case "crash":
            action = .crash(try context.selection(value), storeSurvives: try fields["store"].map(store) ?? true,
                            restartAfter: try fields["restart_after"]?.duration())
        case "restart":
            action = .restart(try context.selection(value))
        case "partition":
            let parts = try value.mapping(known: ["name", "a", "b", "oneway"])
            guard let sideA = parts["a"] else { throw value.error("needs side a (a count or a list of nodes)") }
            action = .partition(
                name: try parts["name"]?.string() ?? "\(item.path)",
                sideA: try context.selection(sideA),
                sideB: try parts["b"].flatMap { try $0.string() == "rest" ? nil : context.selection($0) },
                oneWay: try parts["oneway"]?.bool() ?? false)
        case "heal":
            let name = value.isNull ? "all" : try value.string()
            action = .heal(name == "all" ? nil : name)
        case "join":
            action = .join(try value.int(in: 1...100_000))
        case "leave":
            action = .leave(try context.selection(value))
        case "slow":
            guard let extra = fields["extra_delay"] else { throw item.error("a slow event needs extra_delay (0 makes the nodes normal again)") }
            action = .slow(try context.selection(value), extraDelay: try extra.duration())
        case "loss":
            action = .loss(try value.probability())
        case "submit":
            action = .submit(try submission(value, to: fields["to"], failing: fields["failing_workers"], context, directory: directory))
        case "crash_coordinator":
            let task = try value.string()
            guard !value.isNull, !task.isEmpty else { throw value.error("needs the name of a submitted task (its metadata.name)") }
            action = .crashCoordinator(task: task, storeSurvives: try fields["store"].map(store) ?? true,
                                       restartAfter: try fields["restart_after"]?.duration())
        default:
            action = .revoke(try context.selection(value))
        }
        return ScenarioEvent(at: try at.duration(), action: action, source: item.path)
    }

    /// Reads the task spec a `submit` event names; an invalid spec is an error of the event that
    /// carries the spec's own messages, one per line.
    static func submission(_ value: YAMLField, to: YAMLField?, failing: YAMLField? = nil, _ context: SelectionContext,
                           directory: String) throws -> TaskSubmission {
        let file = try value.string()
        guard !value.isNull, !file.isEmpty else { throw value.error("needs a task spec file (a path relative to the scenario)") }
        let path = file.hasPrefix("/") || directory.isEmpty ? file : "\(directory)/\(file)"
        let loaded: LoadedTaskSpec
        switch TaskSpecLoader.load(path: path) {
        case let .success(spec): loaded = spec
        case let .failure(errors):
            let lines = errors.errors.isEmpty ? errors.issues : errors.errors
            throw value.error("\(file) is not a valid task spec:\n"
                + lines.map { "  " + $0.formatted(file: file) }.joined(separator: "\n"))
        }
        var target: NodeReference?
        if let to {
            guard case let .nodes(references) = try context.selection(to), references.count == 1,
                  case .honest = references[0] else {
                throw to.error("expected one honest node (node-4 or 4), got \(to.kind)")
            }
            target = references[0]
        }
        var failingWorkers: [String] = []
        if let failing {
            let known = Set(loaded.spec.federatedTask?.trainingWorkers.map(\.name) ?? [])
            for item in try failing.sequence() {
                let worker = try item.string()
                guard known.contains(worker) else {
                    throw item.error("\(worker) is not a training worker of \(loaded.spec.name) (\(known.sorted().joined(separator: ", ")))")
                }
                failingWorkers.append(worker)
            }
        }
        return TaskSubmission(file: file, path: path, name: loaded.spec.name, specBytes: loaded.spec.wireBytes, to: target,
                              failingWorkers: failingWorkers)
    }
}
