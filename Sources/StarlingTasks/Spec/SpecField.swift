/// A node of the spec tree with the path that leads to it, so every issue names its field.
struct SpecField {
    let node: SpecNode
    /// `spec.trainingWorkers[1].workerSpec`.
    let path: String
    /// The node's line, or the line of its key or parent when the node has none.
    let line: Int?
    /// The line of the key that leads here (`trainingWorkers:`), or `line` for list items and the
    /// root: where a message about the whole field points.
    let keyLine: Int?

    init(node: SpecNode, path: String, line: Int? = nil, keyLine: Int? = nil) {
        self.node = node
        self.path = path
        self.line = node.line ?? line
        self.keyLine = keyLine ?? self.line
    }

    func child(_ key: String, _ node: SpecNode, keyLine: Int?) -> SpecField {
        SpecField(node: node, path: path.isEmpty ? key : "\(path).\(key)", line: keyLine ?? line, keyLine: keyLine)
    }

    func item(_ index: Int, _ node: SpecNode) -> SpecField {
        SpecField(node: node, path: "\(path)[\(index)]", line: line)
    }

    /// The path of a child that is not there (for "missing" and "defaults" messages).
    func path(of key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
}

/// The fields of one mapping, looked up by key.
struct SpecMapping {
    let field: SpecField
    let entries: [String: SpecField]
    /// Keys in source order.
    let keys: [String]

    subscript(key: String) -> SpecField? { entries[key] }

    var path: String { field.path }
    var line: Int? { field.line }
}
