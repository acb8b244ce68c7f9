import Foundation
import Testing

/// The target graph of Package.swift and the imports in the sources stay within
/// `AllowedDependencies.direct` (which mirrors docs/architecture.md).
@Suite struct DependencyGraphTests {
    static func graph() throws -> PackageGraph { try PackageGraph.current.get() }

    @Test func everyTargetDependsOnlyOnWhatItIsAllowed() throws {
        let graph = try Self.graph()
        #expect(graph.targets.count >= 20, "expected Starling's manifest, found \(graph.targets.map(\.name))")
        let problems = DependencyRule.manifestProblems(graph, allowed: AllowedDependencies.direct)
        #expect(problems.isEmpty, "\(problems.joined(separator: "; "))")
    }

    @Test func sourcesImportOnlyWhatTheirTargetMayReach() throws {
        let graph = try Self.graph()
        // The package's own modules, and every product some target depends on (GRDB, Yams, ...).
        let known = Set(graph.targets.map(\.moduleName) + graph.targets.flatMap(\.dependencies))
        var checked = 0
        var problems: [String] = []
        for target in graph.targets where target.kind != "test" && target.kind != "system" {
            let directory = PackageGraph.packageRoot.appendingPathComponent(target.path)
            guard let files = FileManager.default.enumerator(atPath: directory.path) else {
                problems.append("\(target.name): no sources at \(target.path)")
                continue
            }
            for case let file as String in files where file.hasSuffix(".swift") {
                let source = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
                problems += DependencyRule.importProblems(target: target.name, file: "\(target.path)/\(file)", source: source,
                                                          known: known, allowed: AllowedDependencies.direct)
                checked += 1
            }
        }
        #expect(checked >= 100, "expected the package's sources under \(PackageGraph.packageRoot.path)")
        #expect(problems.isEmpty, "\(problems.joined(separator: "; "))")
    }

    /// Issue 13's clean graph, read from the real manifest (so it holds whatever the list says):
    /// the tensor library drags in no task, membership or trust code, and tasks no membership code.
    @Test func learningAndTasksStayBelowWhatTheyMustNotKnow() throws {
        let edges = try Self.graph().targets.reduce(into: [String: Set<String>]()) { $0[$1.name] = Set($1.dependencies) }
        let learning = DependencyRule.reach(from: "StarlingLearning", edges: edges)
        #expect(learning.isDisjoint(with: ["StarlingTasks", "StarlingMembership", "StarlingTrust", "StarlingPeer"]),
                "StarlingLearning reaches \(learning.sorted())")
        let tasks = DependencyRule.reach(from: "StarlingTasks", edges: edges)
        #expect(tasks.isDisjoint(with: ["StarlingMembership", "StarlingPeer"]), "StarlingTasks reaches \(tasks.sorted())")
    }

    @Test func theRuleCatchesAForbiddenEdge() {
        let allowed: [String: Set<String>] = ["Low": [], "Mid": ["Low"], "High": ["Mid", "Yams"]]
        func graph(_ edges: [String: [String]]) -> PackageGraph {
            PackageGraph(targets: edges.map { .init(name: $0.key, kind: "regular", path: "Sources/\($0.key)", dependencies: $0.value) }
                + [.init(name: "LowTests", kind: "test", path: "Tests/LowTests", dependencies: ["High"])])
        }
        #expect(DependencyRule.manifestProblems(graph(["Low": [], "Mid": ["Low"], "High": ["Mid"]]), allowed: allowed).isEmpty)
        #expect(DependencyRule.manifestProblems(graph(["Low": ["Mid"], "Mid": ["Low"], "High": ["Mid"]]), allowed: allowed)
            == ["Low depends on Mid, which AllowedDependencies.direct does not allow"])
        #expect(DependencyRule.manifestProblems(graph(["Low": [], "Mid": [], "High": [], "New": []]), allowed: allowed).count == 1)
        #expect(DependencyRule.manifestProblems(graph(["Low": [], "Mid": []]), allowed: allowed).count == 1)
        #expect(DependencyRule.reach(from: "High", edges: allowed) == ["Mid", "Low", "Yams"])

        let known: Set<String> = ["Low", "Mid", "High", "Yams"]
        func problems(_ target: String, _ source: String) -> Int {
            DependencyRule.importProblems(target: target, file: "f.swift", source: source, known: known, allowed: allowed).count
        }
        #expect(problems("High", "import Low\nimport Mid\nimport Yams\nimport Foundation") == 0, "reachable or unknown modules")
        #expect(problems("Low", "import Low") == 0)
        #expect(problems("Low", "import Mid") == 1)
        #expect(problems("Mid", "@testable import High\n@preconcurrency public import Yams\nimport struct High.Thing") == 3)
        #expect(problems("Low", "// import High\n/// import Mid\nlet text = \"import High\"") == 0)
    }
}
