import StarlingTasks
import Yams

/// Turns YAML text into a `SpecNode` tree with Yams' node API, which keeps every scalar's source
/// text and line (Yams' typed decoding would read `1.12` as a Double and lose lines).
enum SpecNodeBuilder {
    /// The tree of the one document in `text`, or the one issue that explains why there is none.
    static func build(_ text: String) -> Result<SpecNode, SpecIssue> {
        guard text.utf8.count <= TaskSpecLimits.specBytesMax else {
            return .failure(SpecIssue(.error, path: "", line: nil,
                                      message: "the file is \(text.utf8.count) bytes, more than the limit of \(TaskSpecLimits.specBytesMax)"))
        }
        // libyaml reads up to a NUL byte and ignores the rest; refuse instead of reading half a file.
        if let offset = text.utf8.firstIndex(of: 0) {
            let line = text.utf8[..<offset].filter { $0 == 0x0A }.count + 1
            return .failure(SpecIssue(.error, path: "", line: line, message: "not valid YAML: the file contains a NUL byte"))
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            return .failure(issue(for: error))
        } catch {
            return .failure(SpecIssue(.error, path: "", line: nil, message: "not valid YAML: \(error)"))
        }
        guard let root else { return .success(.plain("", line: 1)) }
        var budget = Budget()
        do {
            return .success(try convert(root, depth: 0, budget: &budget))
        } catch let issue as SpecIssue {
            return .failure(issue)
        } catch {
            return .failure(SpecIssue(.error, path: "", line: nil, message: "\(error)"))
        }
    }

    /// Counts nodes as they are converted: an alias repeated inside aliases ("billion laughs") would
    /// otherwise expand to far more nodes than the file has bytes.
    struct Budget {
        var nodes = 0
    }

    private static func convert(_ node: Node, depth: Int, budget: inout Budget) throws -> SpecNode {
        let line = node.mark?.line
        budget.nodes += 1
        guard budget.nodes <= TaskSpecLimits.nodesMax else {
            throw SpecIssue(.error, path: "", line: line,
                            message: "more than \(TaskSpecLimits.nodesMax) values (aliases included): refused")
        }
        guard depth <= TaskSpecLimits.depthMax else {
            throw SpecIssue(.error, path: "", line: line, message: "nested more than \(TaskSpecLimits.depthMax) levels deep: refused")
        }
        switch node {
        case let .scalar(scalar):
            return .scalar(SpecScalar(text: scalar.string, isPlain: scalar.style == .plain || scalar.style == .any, line: line))
        case let .sequence(sequence):
            return .sequence(try sequence.map { try convert($0, depth: depth + 1, budget: &budget) }, line: line)
        case let .mapping(mapping):
            var entries: [SpecEntry] = []
            for (key, value) in mapping {
                guard case let .scalar(keyScalar) = key else {
                    throw SpecIssue(.error, path: "", line: key.mark?.line ?? line, message: "a key must be a plain word, not \(describe(key))")
                }
                budget.nodes += 1
                entries.append(SpecEntry(key: keyScalar.string, keyLine: key.mark?.line,
                                         value: try convert(value, depth: depth + 1, budget: &budget)))
            }
            return .mapping(entries, line: line)
        case .alias:
            throw SpecIssue(.error, path: "", line: line, message: "unresolved alias")
        }
    }

    private static func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar, .alias: return "a value"
        }
    }

    /// One clear error with line and column for text that is not YAML.
    private static func issue(for error: YamlError) -> SpecIssue {
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            let where_ = context.map { " \($0.text)" } ?? ""
            return SpecIssue(.error, path: "", line: mark.line,
                             message: "not valid YAML: \(problem)\(where_) (line \(mark.line), column \(mark.column))")
        case let .duplicatedKeysInMapping(duplicates, context):
            let keys = duplicates.map { "\"\($0)\"" }.joined(separator: ", ")
            return SpecIssue(.error, path: "", line: context.mark.line > 0 ? context.mark.line : nil,
                             message: "a mapping gives the key \(keys) twice (line \(context.mark.line), column \(context.mark.column))")
        case let .reader(problem, offset, _, _):
            return SpecIssue(.error, path: "", line: nil,
                             message: "not valid YAML: \(problem)\(offset.map { " at byte \($0)" } ?? "")")
        default:
            return SpecIssue(.error, path: "", line: nil, message: "not valid YAML: \(error)")
        }
    }
}
