/// Checks a target graph and its sources' imports against an allowed list (normally
/// `AllowedDependencies.direct`). Pure functions over their arguments, so the tests can also feed
/// them a graph with a forbidden edge and see it caught.
enum DependencyRule {
    /// Problems in the manifest: a non-test target with no allowed list, a dependency outside its
    /// list, or a listed target that no longer exists.
    static func manifestProblems(_ graph: PackageGraph, allowed: [String: Set<String>]) -> [String] {
        var problems: [String] = []
        for target in graph.targets where target.kind != "test" {
            guard let permitted = allowed[target.name] else {
                problems.append("\(target.name) has no entry in AllowedDependencies.direct (and docs/architecture.md)")
                continue
            }
            for dependency in target.dependencies where !permitted.contains(dependency) {
                problems.append("\(target.name) depends on \(dependency), which AllowedDependencies.direct does not allow")
            }
        }
        let names = Set(graph.targets.map(\.name))
        for name in allowed.keys.sorted() where !names.contains(name) {
            problems.append("AllowedDependencies.direct lists \(name), which Package.swift does not have")
        }
        return problems
    }

    /// Everything `target` reaches through `edges` (itself excluded).
    static func reach(from target: String, edges: [String: Set<String>]) -> Set<String> {
        var seen: Set<String> = []
        var pending = Array(edges[target] ?? [])
        while let next = pending.popLast() {
            guard seen.insert(next).inserted else { continue }
            pending += edges[next] ?? []
        }
        return seen
    }

    /// The modules of one source file's `import` declarations, with their line numbers. Knows
    /// attributes (`@testable`, `@preconcurrency`), access levels (`public import`) and kinds
    /// (`import struct M.Type`); skips comments.
    static func imports(in source: String) -> [(line: Int, module: String)] {
        let modifiers: Set<String> = ["public", "package", "internal", "fileprivate", "private"]
        let kinds: Set<String> = ["struct", "class", "enum", "protocol", "typealias", "func", "var", "let"]
        var found: [(line: Int, module: String)] = []
        for (index, rawLine) in source.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let words = rawLine.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let position = words.firstIndex(of: "import"),
                  words[..<position].allSatisfy({ $0.hasPrefix("@") || modifiers.contains($0) }) else { continue }
            var rest = words[(position + 1)...]
            if let kind = rest.first, kinds.contains(kind) { rest = rest.dropFirst() }
            guard let path = rest.first, let module = path.split(separator: ".").first else { continue }
            found.append((line: index + 1, module: String(module)))
        }
        return found
    }

    /// Problems in one source file of `target`: an import of a module in `known` (the package's
    /// modules and the products it uses) that is neither the target itself nor reachable from the
    /// target through the allowed list. A module the allowed list reaches is fine to import: SwiftPM
    /// builds it first either way.
    static func importProblems(target: String, file: String, source: String, known: Set<String>,
                               allowed: [String: Set<String>]) -> [String] {
        let own = target.replacingOccurrences(of: "-", with: "_")
        let reachable = Set(reach(from: target, edges: allowed).map { $0.replacingOccurrences(of: "-", with: "_") })
        return imports(in: source).compactMap { line, module in
            guard known.contains(module), module != own, !reachable.contains(module) else { return nil }
            return "\(file):\(line) imports \(module), which \(target) may not depend on (AllowedDependencies.direct)"
        }
    }
}
