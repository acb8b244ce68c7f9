import ArgumentParser
import CProcess
import Foundation
import StarlingLearning
import StarlingTasks
import StarlingWorker
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `starling worker builtin KIND`: a built-in training worker, or with `STARLING_ROLE` edge or cloud
/// a built-in inference worker, or with `STARLING_ROLE=eval` a job's evaluation worker. Peers start it (docs/workers.md); it needs the environment a peer
/// gives its workers.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run a built-in training or inference worker (started by a peer, not by hand).",
        subcommands: [Builtin.self])

    struct Builtin: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Logistic regression (logreg) or a small MLP (mlp): trained on the worker's local dataset, "
                + "served (STARLING_ROLE edge or cloud), or evaluated (STARLING_ROLE eval).")

        @Argument(help: "logreg or mlp.")
        var kind: String

        func run() throws {
            guard let builtin = BuiltinWorker(rawValue: kind) else {
                throw CLIError("unknown built-in worker '\(kind)'; known: "
                    + BuiltinWorker.allCases.map(\.rawValue).joined(separator: ", "))
            }
            ExecWorkerCommand.dieWithParent()
            do {
                let role = ProcessInfo.processInfo.environment["STARLING_ROLE"] ?? ""
                if WorkerContext.servingRoles.contains(role) {
                    try BuiltinServingProgram.run(kind: builtin)
                } else {
                    try BuiltinWorkerProgram.run(kind: builtin)
                }
            } catch {
                throw CLIError("builtin:\(kind) worker: \(error)")
            }
        }
    }
}

/// `starling exec-worker -- COMMAND...`: how a peer starts every worker. The kernel is asked to
/// kill this process when its parent (the peer) dies, then COMMAND replaces it: a worker never
/// outlives its peer, even after `kill -9` of the peer.
struct ExecWorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec-worker",
        abstract: "Run a worker command that dies with its parent peer (used by peers).",
        shouldDisplay: false)

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments.")
    var command: [String] = []

    func run() throws {
        let arguments = command.first == "--" ? Array(command.dropFirst()) : command
        guard let program = arguments.first else { throw CLIError("exec-worker needs a command") }
        Self.dieWithParent()
        let cArguments = arguments.map { strdup($0) } + [nil]
        execvp(program, cArguments)
        throw CLIError("cannot run \(program): \(String(cString: strerror(errno)))")
    }

    /// PR_SET_PDEATHSIG: SIGKILL when the parent dies; if it died already, exit now.
    static func dieWithParent() {
        let parent = getppid()
        _ = starling_kill_with_parent()
        if parent == 1 || getppid() != parent { Glibc.exit(3) }
    }
}
