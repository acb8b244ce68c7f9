/// One entry of `events:`: `at` plus exactly one action and that action's options.
enum EventParser {
    static let actions = ["crash", "restart", "partition", "heal", "join", "leave", "slow", "loss", "revoke"]
    static let options: [String: String] = ["store": "crash", "restart_after": "crash", "extra_delay": "slow"]
    static let keys = ["at"] + actions + options.keys.sorted()

    static func store(_ field: YAMLField) throws -> Bool {
        switch try field.string() {
        case "survives": return true
        case "lost": return false
        default: throw field.error("expected survives or lost, got \(field.kind)")
        }
    }

    static func parse(_ item: YAMLField, _ context: SelectionContext) throws -> ScenarioEvent {
        let fields = try item.mapping(known: keys)
        guard let at = fields["at"] else { throw item.error("needs at (when the event happens, e.g. 60s)") }
        let present = actions.filter { fields[$0] != nil }
        guard present.count == 1, let kind = present.first, let value = fields[kind] else {
            throw item.error(present.isEmpty
                ? "needs one action: \(actions.joined(separator: ", "))"
                : "has several actions (\(present.joined(separator: ", "))): use one event per action")
        }
        for (option, owner) in options where fields[option] != nil && owner != kind {
            throw fields[option]!.error("applies to \(owner) events only")
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
        default:
            action = .revoke(try context.selection(value))
        }
        return ScenarioEvent(at: try at.duration(), action: action, source: item.path)
    }
}
