import StarlingLearning

/// The script fields of a worker, as written (before they become a `ScriptSpec`).
struct RawScript {
    /// Field names for this kind: `trainScriptDir`/`trainScriptBootFile` in a FederatedTask (the
    /// seed's names), `scriptDir`/`scriptBootFile` elsewhere (Sedna's names).
    let directoryKey: String
    let bootFileKey: String

    var directory: (text: String, field: SpecField)?
    var bootFile: (text: String, field: SpecField)?
    var frameworkType: (text: String, field: SpecField)?
    var frameworkVersion: (text: String, field: SpecField)?

    static let federated = RawScript(directoryKey: "trainScriptDir", bootFileKey: "trainScriptBootFile")
    static let common = RawScript(directoryKey: "scriptDir", bootFileKey: "scriptBootFile")

    var keys: [String] { [directoryKey, bootFileKey, "frameworkType", "frameworkVersion"] }

    subscript(key: String) -> (text: String, field: SpecField)? {
        get {
            switch key {
            case directoryKey: return directory
            case bootFileKey: return bootFile
            case "frameworkType": return frameworkType
            default: return frameworkVersion
            }
        }
        set {
            switch key {
            case directoryKey: directory = newValue
            case bootFileKey: bootFile = newValue
            case "frameworkType": frameworkType = newValue
            default: frameworkVersion = newValue
            }
        }
    }
}

extension SpecReader {
    /// Turns the script fields into a `ScriptSpec`; nil (with the error recorded) when the boot
    /// file is unusable. A missing boot file is reported by the caller, who knows where it belongs.
    mutating func script(_ raw: RawScript) -> ScriptSpec? {
        guard let (text, field) = raw.bootFile else { return nil }
        let bootFile: BootFile
        if text.hasPrefix(BuiltinWorker.prefix) {
            guard let worker = BuiltinWorker(rawValue: String(text.dropFirst(BuiltinWorker.prefix.count))) else {
                let known = BuiltinWorker.allCases.map { BuiltinWorker.prefix + $0.rawValue }.joined(separator: ", ")
                error(field, "unknown built-in worker \"\(text.clipped)\" (known: \(known))")
                return nil
            }
            bootFile = .builtin(worker)
        } else {
            guard text.hasPrefix("/") || raw.directory != nil else {
                error(field, "\(text.clipped) is a relative path: give \(raw.directoryKey) or an absolute path")
                return nil
            }
            bootFile = text.hasSuffix(".py") ? .python(path: text) : .executable(path: text)
        }
        return ScriptSpec(directory: raw.directory?.text, bootFile: bootFile,
                          frameworkType: raw.frameworkType?.text, frameworkVersion: raw.frameworkVersion?.text)
    }

    /// A `workerSpec` of the kinds other than FederatedTask: Sedna's CommonWorkerSpec without the
    /// pod template (script fields and parameters).
    mutating func commonWorkerSpec(_ field: SpecField) -> WorkerSpec? {
        var raw = RawScript.common
        guard let mapping = mapping(field, known: raw.keys + ["parameters"]) else { return nil }
        for key in raw.keys {
            if let value = mapping[key], let text = optionalText(value), !text.isEmpty { raw[key] = (text, value) }
        }
        let parameters = mapping["parameters"].map { self.parameters($0, context: .passThrough) } ?? []
        guard raw.bootFile != nil else {
            missing(raw.bootFileKey, in: mapping, "a path, or builtin:logreg or builtin:mlp")
            return nil
        }
        return script(raw).map { WorkerSpec(script: $0, parameters: parameters.map(\.parameter)) }
    }
}
