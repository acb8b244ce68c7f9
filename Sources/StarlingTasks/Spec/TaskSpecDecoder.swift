/// Turns a spec tree into a validated `TaskSpec`, collecting every problem.
public enum TaskSpecDecoder {
    /// Decodes `root`. The spec is nil when any issue is an error; warnings say how fields were read.
    public static func decode(_ root: SpecNode) -> TaskSpecDecoding {
        var reader = SpecReader()
        let spec = decode(root, &reader)
        if spec == nil && !reader.hasErrors {
            // Every path that gives up records why; this keeps a missed one from passing silently.
            reader.error("", line: root.line, "the spec is not valid")
        }
        return TaskSpecDecoding(spec: reader.hasErrors ? nil : spec, issues: reader.issues)
    }

    static let commonSpecKeys = ["placement", "coordinator"]

    private static func decode(_ root: SpecNode, _ reader: inout SpecReader) -> TaskSpec? {
        let rootField = SpecField(node: root, path: "", line: 1)
        if root.isNull {
            reader.error(rootField, "the file is empty")
            return nil
        }
        guard let top = reader.mapping(rootField, known: ["apiVersion", "kind", "metadata", "spec"]) else { return nil }

        if let field = reader.required("apiVersion", in: top), let text = reader.text(field), text != TaskSpec.apiVersion {
            reader.error(field, "must be \(TaskSpec.apiVersion), got \"\(text.clipped)\"")
        }
        var kindName: TaskKindName?
        if let field = reader.required("kind", in: top), let text = reader.text(field) {
            kindName = TaskKindName(rawValue: text)
            if kindName == nil {
                let known = TaskKindName.allCases.map(\.rawValue)
                let hint = NearestName.suggestion(for: text, among: known).map { "; did you mean \($0)?" } ?? ""
                reader.error(field, "unknown kind \"\(text.clipped)\" (known: \(known.joined(separator: ", ")))\(hint)")
            }
        }
        var name: String?
        var labels: [TaskTag] = []
        if let field = reader.required("metadata", in: top), let metadata = reader.mapping(field, known: ["name", "labels"]) {
            name = reader.required("name", in: metadata).flatMap { reader.label($0) }
            if let field = metadata["labels"], let tags = reader.tags(field) { labels = tags }
        }
        guard let specField = reader.required("spec", in: top), let kindName else { return nil }

        let kindKeys: [String]
        switch kindName {
        case .federatedTask: kindKeys = SpecReader.federatedSpecKeys
        case .incrementalLearningJob: kindKeys = SpecReader.incrementalSpecKeys
        case .jointInferenceService: kindKeys = SpecReader.jointInferenceSpecKeys
        }
        guard let spec = reader.mapping(specField, known: kindKeys + commonSpecKeys) else { return nil }
        let placement = spec["placement"].map { reader.placement($0) } ?? Placement()
        let coordinator = spec["coordinator"].map { reader.placement($0) } ?? Placement()

        let kind: TaskSpec.Kind?
        switch kindName {
        case .federatedTask: kind = reader.federatedTask(spec).map(TaskSpec.Kind.federatedTask)
        case .incrementalLearningJob: kind = reader.incrementalLearningJob(spec).map(TaskSpec.Kind.incrementalLearningJob)
        case .jointInferenceService: kind = reader.jointInferenceService(spec).map(TaskSpec.Kind.jointInferenceService)
        }
        guard let name, let kind, let placement, let coordinator else { return nil }
        return TaskSpec(name: name, labels: labels, placement: placement, coordinator: coordinator, kind: kind)
    }
}

/// What decoding gave: the spec when there was no error, and every issue in the order found.
public struct TaskSpecDecoding: Sendable {
    /// nil when any issue is an error.
    public var spec: TaskSpec?
    public var issues: [SpecIssue]

    public init(spec: TaskSpec?, issues: [SpecIssue]) {
        self.spec = spec
        self.issues = issues
    }

    public var errors: [SpecIssue] { issues.filter(\.isError) }
    public var warnings: [SpecIssue] { issues.filter { !$0.isError } }
}
