/// One `- key: K` / `value: V` entry of a `parameters` list, as written.
struct RawParameter {
    let key: String
    /// The source text; nil when no value was given (the documented default applies).
    let value: String?
    /// The list item, for messages.
    let field: SpecField
    /// The `value` field, when given.
    let valueField: SpecField?
    /// For a known parameter with a value: the value read with its type.
    let typed: TypedValue?

    var known: KnownParameter? { KnownParameter(rawValue: key) }
    var parameter: Parameter { Parameter(key: key, value: value) }
}

/// A known parameter's value, read with its type.
enum TypedValue: Equatable {
    case integer(Int)
    case real(Double)
    case duration(Duration)

    var integer: Int? { if case let .integer(value) = self { return value } else { return nil } }
    var real: Double? { if case let .real(value) = self { return value } else { return nil } }
    var duration: Duration? { if case let .duration(value) = self { return value } else { return nil } }
}

/// Where a `parameters` list sits, which decides which known keys it may hold.
enum ParameterContext {
    /// `spec.aggregationWorker.workerSpec.parameters`: every known parameter (worker ones are the
    /// task-wide values for training workers that do not set their own).
    case aggregationWorker
    /// `spec.trainingWorkers[i].workerSpec.parameters`: worker parameters only.
    case trainingWorker
    /// Other kinds: nothing is interpreted, everything goes to the worker.
    case passThrough
}

extension SpecReader {
    /// A `parameters` list. Keys are unique; known keys with a value are read with their type.
    mutating func parameters(_ field: SpecField, context: ParameterContext) -> [RawParameter] {
        guard let items = list(field, limit: TaskSpecLimits.parametersMax, what: "parameters") else { return [] }
        var parameters: [RawParameter] = []
        for item in items {
            guard let entry = mapping(item, known: ["key", "value"]) else { continue }
            guard let keyField = entry["key"] else {
                missing("key", in: entry)
                continue
            }
            guard let key = text(keyField, limit: TaskSpecLimits.tagBytesMax) else { continue }
            let value = entry["value"].flatMap { optionalText($0) }
            if let first = parameters.first(where: { $0.key == key }) {
                error(keyField, "parameter \(key) given twice (first at \(first.field.path))")
                continue
            }
            var typed: TypedValue?
            if context != .passThrough, let known = KnownParameter(rawValue: key) {
                if context == .trainingWorker && known.isTaskSetting {
                    error(keyField, "\(key) is a task setting: set it in spec.aggregationWorker.workerSpec.parameters or as spec.\(known.specField ?? key)")
                    continue
                }
                if value != nil, let valueField = entry["value"] { typed = typedValue(valueField, known.valueType) }
            }
            parameters.append(RawParameter(key: key, value: value, field: item, valueField: entry["value"], typed: typed))
        }
        return parameters
    }

    /// A scalar read as a known parameter's type.
    mutating func typedValue(_ field: SpecField, _ type: KnownParameter.ValueType) -> TypedValue? {
        switch type {
        case let .integer(range):
            return integer(field, in: range).map(TypedValue.integer)
        case .positiveReal:
            guard let value = real(field) else { return nil }
            guard value > 0 else {
                error(field, "must be greater than 0")
                return nil
            }
            return .real(value)
        case .duration:
            return duration(field, in: TaskSpecLimits.roundTimeoutMin...TaskSpecLimits.roundTimeoutMax).map(TypedValue.duration)
        }
    }
}
