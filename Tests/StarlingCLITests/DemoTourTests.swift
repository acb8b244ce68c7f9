import Foundation
import Testing

/// `starling demo` as a user runs it: the incremental part alone (the whole tour takes over a
/// minute, too long for the suite; `./bootstrap/demo` runs it), and the options it refuses.
@Suite(.serialized) struct DemoTourTests {
    /// The number after `prefix` in `line` ("0.9443" after "version 2 serves: ").
    static func number(after prefix: String, in text: String) -> Double? {
        guard let range = text.range(of: prefix) else { return nil }
        return Double(text[range.upperBound...].prefix { $0.isNumber || $0 == "." })
    }

    @Test func theIncrementalPartDeploysABetterVersionHotWithNoFailedRequest() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        let run = try cli.run("demo", "--only", "incremental")
        try #require(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        let out = run.stdout
        #expect(out.contains("version 1 (the digits model) serves as digits-learning at edge-1"), "\(out)")
        #expect(out.contains("train trigger check (cloud-"), "the first batch is too few: \(out)")
        #expect(out.contains("not num_of_samples > 300"), "\(out)")
        #expect(out.contains("train running on edge-1"), "\(out)")
        #expect(out.contains("eval completed on "), "\(out)")
        #expect(out.contains("deployed version 2 (model "), "\(out)")
        #expect(out.contains("edge-1 serves version 2 (hot"), "\(out)")
        #expect(out.contains("; 0 failed; p99 "), "\(out)")
        #expect(out.contains("`deployed version 2` once"), "\(out)")
        #expect(out.contains("2 versions, version 2 serving"), "\(out)")
        let before = try #require(Self.number(after: "version 1 (the digits model) serves as digits-learning at edge-1: ", in: out))
        let after = try #require(Self.number(after: "version 2 serves: ", in: out))
        #expect(after > before + 0.1, "accuracy after \(after), before \(before)")
        #expect(out.contains("demo: done in ") && out.contains(", 0 failed requests; every process it started has stopped"), "\(out)")
        #expect(!out.contains("== 1.") && !out.contains("== 2."), "one part only")
    }

    @Test func badOptionsAreRefusedAndStartNothing() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        let part = try cli.run("demo", "--only", "training")
        #expect(part.status != 0 && part.stderr.contains("--only is one of federated, inference, incremental, not training"), "\(part.stderr)")
        let both = try cli.run("demo", "--inference", "--only", "federated")
        #expect(both.status != 0 && both.stderr.contains("--inference is --only inference"), "\(both.stderr)")
        let known = try cli.run("demo", "--known-digits", "11")
        #expect(known.status != 0 && known.stderr.contains("--known-digits is 1 to 10"), "\(known.stderr)")
        #expect((try? FileManager.default.contentsOfDirectory(atPath: cli.directory))?.isEmpty == true, "nothing written")
    }

    @Test func writeDataWritesTheSplitOfEveryDigitUnlessToldOtherwise() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        #expect(try cli.run("demo", "--write-data", "all").status == 0)
        #expect(try cli.run("demo", "--write-data", "known", "--known-digits", "7").status == 0)
        func labels(_ file: String) throws -> Set<Substring> {
            Set(try String(contentsOfFile: cli.path(file), encoding: .utf8).split(separator: "\n")
                .compactMap { $0.split(separator: ",").last })
        }
        let all = try (0..<5).reduce(into: Set<Substring>()) { $0.formUnion(try labels("all/digits-\($1).csv")) }
        let known = try (0..<5).reduce(into: Set<Substring>()) { $0.formUnion(try labels("known/digits-\($1).csv")) }
        #expect(all.count == 10 && known.count == 7, "\(all) \(known)")
        #expect(try labels("known/test.csv").count == 10, "the held-out digits are all of them")
    }
}
