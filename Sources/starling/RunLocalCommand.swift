import ArgumentParser
import Foundation
import StarlingLocalAPI
import StarlingRuntime
import StarlingTasks
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Every bound of `starling task run-local`, in one place (docs/cli.md).
enum RunLocalLimits {
    /// The most peers it starts on one machine (one per dataset, and the coordinator).
    static let peersMax = 16
    /// The default `--timeout` is the task's rounds × round timeout plus this (the first round
    /// waits for every worker to start),
    static let timeoutSlackSeconds = 60.0
    /// and at most this: a local trial that needs longer says so with `--timeout`.
    static let timeoutDefaultMaxSeconds = 3600.0
    /// What `--timeout` accepts.
    static let timeoutSeconds = 1.0...(7 * 86_400.0)
}

extension TaskCommand {
    /// `starling task run-local FILE --dataset NAME=PATH ...`: the user's own spec and workers on a
    /// throwaway cluster of local peers (Flower's `run_simulation`, with real peers and processes).
    struct RunLocal: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run-local",
            abstract: "Run a task spec to the end on a throwaway cluster of local peers, one per dataset, and export its model.",
            discussion: """
                The spec is validated first, as `task submit` does. run-local then starts real peers \
                on loopback with a throwaway authority: one per dataset (it registers the file given \
                with --dataset, so the workers placed by dataset run there; a dataset whose workers \
                give a nodeName is held by a peer of that name, the others by edge-1, edge-2, ...) \
                and one named cloud, the only one that may coordinate (it holds the central \
                evaluation's dataset, if the spec has one). Every peer carries the spec's placement \
                tags and the coordinator its coordinator tags too. It submits the task, prints each \
                committed round with its metrics (named as `task watch` names them), exports the \
                final model and stops every process it started, also on Ctrl-C and on any error.

                The peers run in the spec file's directory: a relative trainScriptDir (and a boot \
                file relative to it) resolves against the directory of FILE, whatever the current \
                directory. Dataset, --out, --keep and --python paths are relative to the current \
                directory.

                Exit status 0 when the task completed and its model was exported; 2 when the task \
                failed or a worker's peer gave up on it (it could not start, or crashed 4 times in a \
                row; the end of its log is printed); 1 when the spec or the options are refused, the \
                task was cancelled, a peer exited, --timeout passed, or anything else went wrong; 130 \
                on Ctrl-C. However it ends, no process it started is left running.
                """)

        @Argument(help: "The task spec (YAML, docs/tasks.md): a FederatedTask.")
        var file: String

        @Option(name: .customLong("dataset"),
                help: ArgumentHelp("A dataset the spec uses and its file: CSV (numeric columns, label last) or npz (arrays x "
                    + "and y, by the .npz extension), as `dataset add` reads it. One for each dataset the training workers "
                    + "and the central evaluation name.",
                    valueName: "NAME=PATH"))
        var datasets: [String] = []

        @Option(help: ArgumentHelp("The Python that runs .py workers; it needs the Python Lib (pip install ./python). "
            + "Default: $STARLING_PYTHON, else python3.", valueName: "PATH"))
        var python: String?

        @Option(help: ArgumentHelp("Where to write the final model (default: NAME.safetensors in the current directory, "
            + "NAME the spec's metadata.name).", valueName: "FILE"))
        var out: String?

        @Option(help: ArgumentHelp("How long the task may take once submitted: a number and s, m or h (default: rounds × "
            + "roundTimeout + 1m, at most 1h).", valueName: "DURATION"))
        var timeout: String?

        @Option(help: ArgumentHelp("Keep the cluster in DIR (new or empty) instead of a temporary directory that is "
            + "removed: the peers' data directories, their logs and their workers' logs stay there.", valueName: "DIR"))
        var keep: String?

        func validate() throws {
            if let timeout {
                guard let seconds = Self.seconds(timeout), RunLocalLimits.timeoutSeconds.contains(seconds) else {
                    throw ValidationError("--timeout: '\(timeout)' is not a duration from 1s to 168h (such as 90s, 20m, 2h)")
                }
            }
        }

        /// `500ms`, `90s`, `20m`, `2h`, or a number of seconds.
        static func seconds(_ text: String) -> Double? {
            if text.hasSuffix("h") { return Double(text.dropLast()).map { $0 * 3600 } }
            return Watch.seconds(text)
        }

        func run() throws {
            let spec = try Self.load(file)
            let given = try Self.datasetPaths(datasets)
            let plan = try RunLocalPlan.make(spec, given: Set(given.map(\.name))).get()
            let federated = spec.federatedTask!
            let specPath = Self.absolute(file)
            let specDirectory = URL(fileURLWithPath: specPath).deletingLastPathComponent().standardizedFileURL.path
            try Self.checkScripts(federated, specDirectory: specDirectory)
            let pythonArguments = try Self.python(python, needed: federated.trainingWorkers.contains {
                if case .python = $0.script.bootFile { true } else { false }
            })
            let outPath = try Self.outputPath(out ?? "\(spec.name).safetensors")
            let roundTimeout = Double(federated.rounds.roundTimeout.components.seconds)
                + Double(federated.rounds.roundTimeout.components.attoseconds) / 1e18
            let patience = timeout.flatMap(Self.seconds) ?? min(Double(federated.rounds.rounds) * roundTimeout
                + RunLocalLimits.timeoutSlackSeconds, RunLocalLimits.timeoutDefaultMaxSeconds)

            let datasetCount = Set(federated.trainingWorkers.map(\.dataset.name)).count
            let evaluation = federated.aggregationWorker.evaluationDataset.map { ", a central evaluation on \($0.name)" } ?? ""
            printNow("task \(spec.name): \(federated.trainingWorkers.count) training workers on \(datasetCount) dataset"
                + "\(datasetCount == 1 ? "" : "s")\(evaluation), \(federated.rounds.rounds) rounds of "
                + "\(federated.aggregationWorker.algorithm.rawValue); run-local waits up to \(Self.durationText(patience)) for it (--timeout)")
            let cluster = try LocalCluster(peers: plan.peers, prefix: "starling-run-local", keep: false, directory: keep,
                                           peerArguments: pythonArguments, workingDirectory: specDirectory)
            let kept = cluster.keep ? "; the peers' data directories and logs are kept in \(cluster.work)" : ""
            let signals = ClusterSignals.install {
                cluster.stopAll()
                FileHandle.standardError.write(Data("\ninterrupted: every process run-local started has stopped\(kept)\n".utf8))
            }
            defer { signals.cancel() }
            printNow("workspace: \(cluster.work)" + (cluster.keep ? " (kept)" : " (removed at the end; --keep DIR keeps it)"))
            do {
                let task = try execute(plan, cluster: cluster, spec: spec, specPath: specPath, specDirectory: specDirectory,
                                       given: given, patience: patience)
                let last = task.committed.last!
                _ = try cluster.exportModel(last.modelHash, to: outPath)
                let bytes = (try? FileManager.default.attributesOfItem(atPath: outPath))?[.size] as? NSNumber
                cluster.stopAll()
                printNow("every process run-local started has stopped\(kept)")
                // The central scores are of this very model (a round's local ones are of its starting model).
                let central = RoundMetrics.describe(last.metrics?.filter { $0.key.hasPrefix("central_") })
                printNow("model exported to \(outPath) (\(bytes?.intValue ?? 0) bytes, safetensors: the model of round \(last.round)"
                    + (central.isEmpty ? "" : "; \(central)") + ")")
            } catch {
                cluster.stopAll()
                if !kept.isEmpty { FileHandle.standardError.write(Data("every process run-local started has stopped\(kept)\n".utf8)) }
                // As `task watch`: a script can tell a failed task (status 2) from a run that could not be made (1).
                guard let failure = error as? RoundWatch.TaskFailed else { throw error }
                FileHandle.standardError.write(Data("Error: \(failure)\n".utf8))
                throw ExitCode(2)
            }
        }

        /// Starts the peers, registers the datasets, submits the task and follows it to completion.
        private func execute(_ plan: RunLocalPlan, cluster: LocalCluster, spec: TaskSpec, specPath: String, specDirectory: String,
                             given: [(name: String, path: String)], patience: Double) throws -> TaskReport {
            let base = try cluster.startPeers()
            printNow("\(plan.peers.count) peers running on 127.0.0.1:\(base)-\(base + plan.peers.count - 1) in \(specDirectory); "
                + "\(plan.coordinator.peer.name) is the only coordinator")
            let paths = Dictionary(given.map { ($0.name, $0.path) }) { first, _ in first }
            let workers = spec.federatedTask!.trainingWorkers
            for holder in plan.registrations {
                for dataset in holder.datasets {
                    let record: Dataset
                    do {
                        record = try cluster.addDataset(dataset, path: paths[dataset]!, on: holder.peer.name)
                    } catch {
                        throw CLIError("--dataset \(dataset)=\(paths[dataset]!): \(error)")
                    }
                    let names = workers.filter { $0.dataset.name == dataset }.map(\.name).joined(separator: ", ")
                    let use = holder == plan.coordinator ? "the central evaluation" : "for \(names)"
                    printNow("\(holder.peer.name) holds \(dataset): \(record.samples) samples, \(record.features) "
                        + "features, \(record.classes) classes (\(use))")
                }
            }
            cluster.waitForDatasets(plan.registrations.map(\.datasets.count).reduce(0, +), seenBy: plan.coordinator.peer.name)
            printNow(try cluster.submit(specPath, through: plan.coordinator.peer.name))
            let hint = cluster.keep ? "; the logs are kept in \(cluster.work)"
                : "; give a longer --timeout, or --keep DIR to keep the peers' and workers' logs"
            return try RoundWatch(cluster: cluster, task: spec.name, patience: patience, timeoutHint: hint).run()
        }

        /// The spec, validated as `task submit` validates it: every error printed (FILE:LINE: error:
        /// PATH: message) and nothing started; warnings printed.
        static func load(_ file: String) throws -> TaskSpec {
            try TaskCommand.Submit.load(file, refusal: "nothing was started")
        }

        /// The `--dataset NAME=PATH` values: names once each, paths absolute and naming files.
        static func datasetPaths(_ values: [String]) throws -> [(name: String, path: String)] {
            var seen: Set<String> = []
            return try values.map { value in
                let parts = value.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw CLIError("--dataset '\(value)': expected NAME=PATH")
                }
                let name = String(parts[0]), path = absolute(String(parts[1]))
                guard seen.insert(name).inserted else { throw CLIError("--dataset \(name) is given twice") }
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
                    throw CLIError("--dataset \(value): no such file")
                }
                return (name, path)
            }
        }

        /// Every script a worker boots exists where the peers will look for it: a relative
        /// trainScriptDir under the spec's directory (the peers' working directory).
        static func checkScripts(_ federated: FederatedTaskSpec, specDirectory: String) throws {
            // Workers inherit their script from the first, so one problem is said once, for all of them.
            var problems: [(text: String, workers: [String])] = []
            for worker in federated.trainingWorkers {
                guard let problem = scriptProblem(worker.script, specDirectory: specDirectory) else { continue }
                if let index = problems.firstIndex(where: { $0.text == problem }) {
                    problems[index].workers.append(worker.name)
                } else {
                    problems.append((problem, [worker.name]))
                }
            }
            guard problems.isEmpty else {
                throw CLIError(problems.map { problem in
                    "training worker\(problem.workers.count == 1 ? "" : "s") \(problem.workers.joined(separator: ", ")): \(problem.text)"
                }.joined(separator: "\n"))
            }
        }

        private static func scriptProblem(_ script: ScriptSpec, specDirectory: String) -> String? {
            let path: String, executable: Bool
            switch script.bootFile {
            case .builtin: return nil
            case let .python(file): (path, executable) = (file, false)
            case let .executable(file): (path, executable) = (file, true)
            }
            let written = script.directory
            let directory = written.map { $0.hasPrefix("/") ? $0 : "\(specDirectory)/\($0)" } ?? specDirectory
            var isDirectory: ObjCBool = false
            if let written, !(FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) && isDirectory.boolValue) {
                return written.hasPrefix("/") ? "trainScriptDir \(written) is not a directory"
                    : "trainScriptDir \(written) is \(directory), which is not a directory (run-local resolves a relative "
                        + "trainScriptDir against the spec file's directory)"
            }
            let file = path.hasPrefix("/") ? path : "\(directory)/\(path)"
            if !FileManager.default.fileExists(atPath: file) {
                return path == file ? "trainScriptBootFile \(path) does not exist"
                    : "trainScriptBootFile \(path) is \(file), which does not exist"
            }
            if executable && !FileManager.default.isExecutableFile(atPath: file) {
                return "trainScriptBootFile \(file) is not executable (chmod +x it; a .py file runs with Python)"
            }
            return nil
        }

        /// The `starling peer` arguments naming the Python for `.py` workers, chosen as the peer
        /// chooses it (`--python`, else `$STARLING_PYTHON`, else `python3`) and checked here: one that
        /// is named, or needed by a `.py` worker, must be an executable; one without the Python Lib
        /// gets a warning (a script may speak the worker protocol itself). A named one is handed to
        /// the peers as an absolute `--python`, since they run in the spec's directory.
        static func python(_ flag: String?, needed: Bool) throws -> [String] {
            let choice = WorkerPython.choose(flag: flag)
            guard choice.source != .fallback || needed else { return [] }
            guard let path = choice.locate() else {
                if choice.source == .fallback {
                    throw CLIError("python3 is not in PATH and the spec has .py workers: give --python PATH "
                        + "(a Python with the Starling Lib: pip install ./python)")
                }
                throw CLIError("\(choice.source.name) \(choice.command): not an executable file; name the Python that runs "
                    + ".py workers (one with the Starling Lib: pip install ./python)")
            }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: path)
            process.arguments = ["-c", "import starling"]
            let errors = Pipe()
            process.standardOutput = FileHandle.nullDevice
            process.standardError = errors
            do { try process.run() } catch { throw CLIError("cannot run the Python \(path): \(error)") }
            let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            if process.terminationStatus != 0 {
                let last = text.split(separator: "\n").last.map(String.init) ?? "exit status \(process.terminationStatus)"
                FileHandle.standardError.write(Data(("warning: \(path) cannot import the Starling Python Lib (\(last)); .py workers "
                    + "that use it will fail: pip install ./python (from the repository) there, or give --python PATH\n").utf8))
            }
            return choice.source == .fallback ? [] : ["--python", path]
        }

        /// `--out` made absolute, in a directory that exists and may be written.
        static func outputPath(_ out: String) throws -> String {
            let path = absolute(out)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                throw CLIError("--out \(out) is a directory; give a file name")
            }
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            guard access(directory, W_OK) == 0 else { throw CLIError("--out \(out): cannot write into \(directory)") }
            return path
        }

        static func absolute(_ path: String) -> String {
            URL(fileURLWithPath: CLIPath.absolute(path))
                .standardizedFileURL.path
        }

        static func durationText(_ seconds: Double) -> String {
            seconds < 120 ? "\(Int(seconds.rounded())) s" : "\(Int((seconds / 60).rounded())) min"
        }
    }
}
