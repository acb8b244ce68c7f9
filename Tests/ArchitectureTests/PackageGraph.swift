import Foundation

/// The package's real target graph, as SwiftPM reads it: `swift package dump-package` prints the
/// manifest as JSON (about 0.2 s once the manifest is compiled and cached), so nothing here parses
/// Swift.
struct PackageGraph: Sendable {
    struct Target: Sendable {
        let name: String
        /// SwiftPM's kind: regular, executable, system, test, ...
        let kind: String
        /// The sources' directory, relative to the package root.
        let path: String
        /// Targets and products it depends on, by name.
        let dependencies: [String]

        /// The name `import` uses (SwiftPM turns `starling-bench` into `starling_bench`).
        var moduleName: String { name.replacingOccurrences(of: "-", with: "_") }
    }

    let targets: [Target]

    var byName: [String: Target] { Dictionary(uniqueKeysWithValues: targets.map { ($0.name, $0) }) }

    /// The manifest of the package at `root`, read once per test process.
    static let current = Result { () throws(GraphError) -> PackageGraph in try dump(root: packageRoot) }

    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static func dump(root: URL) throws(GraphError) -> PackageGraph {
        // `swift test` holds the lock of the package's .build while the tests run, and dump-package
        // would wait for it for ever: give it a scratch directory of its own (it stays empty).
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("starling-dump-package-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["swift", "package", "--package-path", root.path, "--scratch-path", scratch.path, "dump-package"]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        do { try process.run() } catch { throw GraphError("cannot run `swift package dump-package`: \(error)") }
        // Read before waiting: a manifest's JSON can outgrow the pipe's buffer.
        let json = output.fileHandleForReading.readDataToEndOfFile()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw GraphError("`swift package dump-package` exited with \(process.terminationStatus): "
                + String(decoding: message, as: UTF8.self))
        }
        return try parse(json)
    }

    /// The targets of dump-package's JSON. A dependency is `{"byName": [name, condition]}`,
    /// `{"target": [name, condition]}` or `{"product": [name, package, aliases, condition]}`.
    static func parse(_ json: Data) throws(GraphError) -> PackageGraph {
        guard let manifest = try? JSONSerialization.jsonObject(with: json) as? [String: Any],
              let targets = manifest["targets"] as? [[String: Any]] else {
            throw GraphError("dump-package printed no manifest with targets")
        }
        var parsed: [Target] = []
        for target in targets {
            guard let name = target["name"] as? String, let kind = target["type"] as? String else {
                throw GraphError("a target in dump-package's JSON has no name or type")
            }
            var dependencies: [String] = []
            for dependency in target["dependencies"] as? [[String: Any]] ?? [] {
                guard let fields = dependency.values.first as? [Any], let dependencyName = fields.first as? String else {
                    throw GraphError("target \(name): a dependency of unknown shape: \(dependency)")
                }
                dependencies.append(dependencyName)
            }
            let path = target["path"] as? String ?? (kind == "test" ? "Tests/\(name)" : "Sources/\(name)")
            parsed.append(Target(name: name, kind: kind, path: path, dependencies: dependencies))
        }
        return PackageGraph(targets: parsed)
    }
}

struct GraphError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
