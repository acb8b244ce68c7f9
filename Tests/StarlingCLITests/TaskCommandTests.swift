import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `starling task submit|list|status|watch|cancel`. Names, flags and the JSON are a contract.
@Suite struct TaskCommandTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func example(_ name: String) -> String { packageRoot.appendingPathComponent("examples/\(name)").path }

    @Test func submitOfABadSpecNamesEveryFieldAndContactsNoPeer() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        let bad = """
            apiVersion: edgeai.io/v1alpha1
            kind: FederatedTask
            metadata:
              name: Bad_Name
            spec:
              round: 3
              trainingWorkers:
                - name: work0
                  workerSpec:
                    dataset:
                      name: dataset0
                    trainScriptBootFile: builtin:logreg
                - name: work1
                  workerSpec:
                    dataset:
                      trainScriptDir: /code
            """
        try bad.write(toFile: cli.path("bad.yaml"), atomically: true, encoding: .utf8)
        // No peer serves this directory: reaching it would fail with "no peer is running".
        let result = try cli.run("task", "submit", "bad.yaml", "--peer", cli.path("nowhere"))
        #expect(result.status == 1)
        #expect(result.stderr.contains("bad.yaml:16: error: spec.trainingWorkers[1].workerSpec.dataset: missing name"), "\(result.stderr)")
        #expect(result.stderr.contains("bad.yaml:4: error: metadata.name: must be a DNS-1123 label"), "\(result.stderr)")
        #expect(result.stderr.contains("error: spec.round: unknown field (did you mean rounds?)"), "\(result.stderr)")
        #expect(result.stderr.contains("bad.yaml: 3 errors; nothing was submitted"), "\(result.stderr)")
        #expect(!result.stderr.contains("no peer is running"), "the peer must not be contacted: \(result.stderr)")
        #expect(result.stdout.isEmpty)

        let missing = try cli.run("task", "submit", "absent.yaml", "--peer", cli.path("nowhere"))
        #expect(missing.status == 1 && missing.stderr.contains("absent.yaml: error: cannot read absent.yaml"), "\(missing.stderr)")
    }

    @Test func theSeedExampleValidatesWithWarningsThenNeedsAPeer() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        let seed = Self.example("federatedtask-seed.yaml")
        let result = try cli.run("task", "submit", seed, "--peer", cli.path("nowhere"))
        #expect(result.stderr.contains("\(seed):17: warning: spec.aggregationWorker.trainingWorkers: read as spec.trainingWorkers"),
                "\(result.stderr)")
        #expect(!result.stderr.contains(": error:"), "\(result.stderr)")
        // Valid, so it was sent: to no peer here.
        #expect(result.status == 1 && result.stderr.contains("no peer is running with data directory \(cli.path("nowhere"))"),
                "\(result.stderr)")
    }

    @Test func commandsNeedARunningPeerAndSayWhichDirectory() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        for arguments in [["list"], ["status", "digits"], ["watch", "digits"], ["cancel", "digits"]] {
            let result = try cli.run(["task"] + arguments + ["--peer", cli.path("nowhere")])
            #expect(result.status == 1, "\(arguments)")
            #expect(result.stderr.contains("no peer is running with data directory \(cli.path("nowhere"))"), "\(arguments): \(result.stderr)")
        }
        let badInterval = try cli.run("task", "watch", "digits", "--interval", "soon")
        #expect(badInterval.status == 64 && badInterval.stderr.contains("--interval"), "\(badInterval.stderr)")
    }
}
