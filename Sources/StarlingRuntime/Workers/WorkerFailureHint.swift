/// What to do about a Python worker that failed for want of a module: the interpreter that runs
/// `.py` workers (`starling peer --python`, else `$STARLING_PYTHON`, else `python3`) lacks the
/// Starling Lib, one of its dependencies, or a module the script imports. The hint follows the
/// worker's last line of standard error in the failure reason (docs/workers.md).
enum WorkerFailureHint {
    /// The modules the Starling Lib itself needs (python/pyproject.toml).
    static let libDependencies = ["numpy", "safetensors"]

    /// The hint for `lastLine` (the worker's last line of standard error) of a worker run by
    /// `python`; nil when the line is not Python's "No module named 'X'".
    static func hint(lastLine: String, python: String) -> String? {
        guard let module = missingModule(in: lastLine) else { return nil }
        let top = module.split(separator: ".").first.map(String.init) ?? module
        let lacks = "the Python that runs .py workers (\(python)) lacks"
        let switchPython = "start the peer with --python PATH (or STARLING_PYTHON) naming one that has it"
        if top == "starling" {
            return "\(lacks) the Starling Lib: pip install ./python there, or \(switchPython)"
        }
        if libDependencies.contains(top) {
            return "\(lacks) \(top), which the Starling Lib needs: pip install ./python there (it brings numpy and safetensors), or \(switchPython)"
        }
        return "\(lacks) \(top), which the worker imports: install it there, or \(switchPython)"
    }

    /// `X` of Python's `ModuleNotFoundError: No module named 'X'`.
    static func missingModule(in line: String) -> String? {
        let marker = "No module named '"
        guard let start = line.range(of: marker)?.upperBound,
              let end = line[start...].firstIndex(of: "'"), end > start else { return nil }
        return String(line[start..<end])
    }
}
