import Foundation
@testable import starling
@testable import StarlingLearning
import StarlingLocalAPI
import Testing

/// `starling infer`'s input files (CSV with and without labels, npz, safetensors, bad files), the
/// splitting of requests to the local API's line limit, and the report's counts, percentiles and
/// text (docs/cli.md, "infer").
struct InferCommandTests {
    static func csv(_ text: String, features: Int? = nil, labels: InferLabels = .auto) throws -> InferInput {
        try InferInputFile.decode(Array(text.utf8), format: .csv, features: features, labels: labels)
    }

    @Test func aCSVWhoseLastColumnAloneHoldsSmallWholeNumbersHasItsLabelsThere() throws {
        let input = try Self.csv("a,b,label\r\n0.5,0.25,2\n\n0.125,1,0\n")
        #expect(input.rows == 2 && input.featureCount == 2)
        #expect(input.features == [0.5, 0.25, 0.125, 1])
        #expect(input.labels == [2, 0])
        #expect(input.labelNote.hasPrefix("labels: last column (it holds only whole numbers 0..2"))
        // --labels none sends the column as a feature.
        let unlabelled = try Self.csv("0.5,0.25,2\n0.125,1,0\n", labels: .none)
        #expect(unlabelled.featureCount == 3 && unlabelled.labels == nil)
    }

    @Test func aCSVWithoutLabelsSendsEveryColumn() throws {
        let input = try Self.csv("0.5,0.25,0.75\n0.125,1,0.5\n")
        #expect(input.featureCount == 3 && input.labels == nil)
        #expect(input.labelNote == "labels: none (the last column holds values that are not labels)")
        // Every column holds small whole numbers: auto cannot tell, so no labels, and it says so.
        let integers = try Self.csv("0,16,3\n4,2,1\n")
        #expect(integers.featureCount == 3 && integers.labels == nil)
        #expect(integers.labelNote.contains("--labels last if it is the label"))
        let told = try Self.csv("0,16,3\n4,2,1\n", labels: .last)
        #expect(told.featureCount == 2 && told.labels == [3, 1])
        // --features decides: one column more is the label.
        #expect(try Self.csv("0,16,3\n4,2,1\n", features: 2).labels == [3, 1])
        #expect(try Self.csv("0,16,3\n4,2,1\n", features: 3).labels == nil)
    }

    @Test(arguments: [
        ("0.5,1\n0.5,x\n", nil as Int?, InferLabels.auto, "line 2: field 2 \"x\" is not a finite number"),
        ("0.5,1,0\n0.5,1\n", nil, .auto, "line 2 has 2 fields, line 1 has 3"),
        ("h1,h2\n", nil, .auto, "no rows of numbers (line 1, which holds a field that is not a number, is read as a header)"),
        ("", nil, .auto, "no rows of numbers (an empty file)"),
        ("0.5,1,0\n", 5, .auto, "the rows have 3 columns; --features 5 needs 5 (or 6 with a label)"),
        ("0.5,1,0.5\n", nil, .last, "row 1: label 0.5 is not a whole number"),
        ("0.5,1\n", 2, .last, "--labels last: the rows have 2 columns, as many as --features 2"),
        ("3\n", nil, .last, "the rows have 1 column: a label and no features"),
    ])
    func badCSVFilesAreRefusedNamingTheProblem(text: String, features: Int?, labels: InferLabels, message: String) {
        #expect {
            try Self.csv(text, features: features, labels: labels)
        } throws: { error in
            (error as? CLIError)?.description.hasPrefix(message) == true
        }
    }

    static func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
    static func le32(_ v: Int) -> [UInt8] { le16(v & 0xFFFF) + le16(v >> 16 & 0xFFFF) }

    /// An .npy (format 1.0) of little-endian float32 or int64 values.
    static func npy(_ shape: [Int], floats: [Float]? = nil, integers: [Int64]? = nil) -> [UInt8] {
        let descr = floats != nil ? "<f4" : "<i8"
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = Array("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }".utf8)
        while (10 + header.count + 1) % 64 != 0 { header.append(0x20) }
        header.append(0x0A)
        var data: [UInt8] = []
        for value in floats ?? [] { data += le32(Int(value.bitPattern)) }
        for value in integers ?? [] { data += le32(Int(value & 0xFFFF_FFFF)) + le32(Int(value >> 32 & 0xFFFF_FFFF)) }
        return [0x93] + Array("NUMPY".utf8) + [1, 0] + le16(header.count) + header + data
    }

    /// A zip archive of stored members, as `np.savez` writes one.
    static func npz(_ members: [(String, [UInt8])]) -> [UInt8] {
        var out: [UInt8] = [], central: [UInt8] = []
        for (name, content) in members {
            let crc = Int(Zlib.crc32(content)), offset = out.count
            out += le32(0x0403_4B50) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0x21) + le32(crc)
                + le32(content.count) + le32(content.count) + le16(name.utf8.count) + le16(0) + Array(name.utf8) + content
            central += le32(0x0201_4B50) + le16(20) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0x21) + le32(crc)
                + le32(content.count) + le32(content.count) + le16(name.utf8.count) + le16(0) + le16(0) + le16(0) + le16(0)
                + le32(0) + le32(offset) + Array(name.utf8)
        }
        let directoryOffset = out.count
        return out + central + le32(0x0605_4B50) + le16(0) + le16(0) + le16(members.count) + le16(members.count)
            + le32(central.count) + le32(directoryOffset) + le16(0)
    }

    @Test func npzExamplesAreReadFromXOrDataWithOptionalLabelsY() throws {
        let x = Self.npy([2, 3], floats: [0.5, 1, 0, 0.25, 0.75, 1])
        let labelled = try InferInputFile.decode(Self.npz([("x.npy", x), ("y.npy", Self.npy([2], integers: [4, 1]))]),
                                                 format: .npz, features: nil, labels: .auto)
        #expect(labelled.rows == 2 && labelled.featureCount == 3 && labelled.labels == [4, 1])
        #expect(labelled.features == [0.5, 1, 0, 0.25, 0.75, 1])
        let data = try InferInputFile.decode(Self.npz([("data.npy", x)]), format: .npz, features: nil, labels: .auto)
        #expect(data.labels == nil && data.labelNote == "labels: none (no array y)")
        // Images of 2 × 2 are flattened to 4 values each.
        let images = try InferInputFile.decode(Self.npz([("X.npy", Self.npy([1, 2, 2], floats: [1, 2, 3, 4]))]),
                                               format: .npz, features: 4, labels: .none)
        #expect(images.rows == 1 && images.featureCount == 4)
        #expect(throws: CLIError.self) {
            try InferInputFile.decode(Self.npz([("w.npy", x)]), format: .npz, features: nil, labels: .auto)
        }
        #expect(throws: CLIError.self) {  // a label for one example of two
            try InferInputFile.decode(Self.npz([("x.npy", x), ("y.npy", Self.npy([1], integers: [4]))]),
                                      format: .npz, features: nil, labels: .auto)
        }
    }

    @Test func safetensorsExamplesAreReadFromXOrInputWithOptionalLabelsY() throws {
        let model = try ModelWeights(tensors: [
            try Tensor(name: "input", shape: [3, 2], values: [1, 2, 3, 4, 5, 6]),
            try Tensor(name: "y", shape: [3], values: [0, 1, 1]),
        ])
        let input = try InferInputFile.decode(SafeTensors.encode(model), format: .safetensors, features: 2, labels: .auto)
        #expect(input.rows == 3 && input.featureCount == 2 && input.labels == [0, 1, 1])
        #expect(input.values(1..<3) == [3, 4, 5, 6])
        #expect(InferInputFormat.of(path: "examples.bin", bytes: SafeTensors.encode(model)) == .safetensors)
        #expect {
            try InferInputFile.decode(SafeTensors.encode(model), format: .safetensors, features: 3, labels: .auto)
        } throws: { error in
            (error as? CLIError)?.description == "array input of shape [3, 2] has 2 values per example, --features says 3"
        }
    }

    @Test func aFileThatIsNoneOfThemIsRefusedWithItsPath() throws {
        let path = NSTemporaryDirectory() + "infer-bad-\(UUID().uuidString.prefix(8)).npz"
        try Data("not a zip archive".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect {
            try InferInputFile.read(path: path, features: nil, labels: .auto)
        } throws: { error in
            (error as? CLIError)?.description.hasPrefix("\(path): npz") == true
        }
        #expect {
            try InferInputFile.read(path: path + ".missing", features: nil, labels: .auto)
        } throws: { error in
            (error as? CLIError)?.description.hasPrefix("cannot read \(path).missing") == true
        }
    }

    @Test func requestsAreSplitUntilEachFitsTheLocalAPILineLimit() throws {
        // 40 examples of 1,000 values near 1/3: ~11 bytes a value, ~11 KB an example.
        let width = 1_000, rows = 40
        let input = InferInput(rows: rows, featureCount: width, features: (0..<(rows * width)).map { Float($0 % 7) / 3 + 1e-3 },
                               labels: nil, labelNote: "")
        let ranges = try InferCommand.requests(input, service: "s", batch: 32)
        #expect(ranges.first?.lowerBound == 0 && ranges.last?.upperBound == rows)
        #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound }, "contiguous, in order")
        #expect(ranges.count > 2 && ranges.allSatisfy { $0.count <= 32 })
        #expect(ranges.allSatisfy { InferCommand.line($0, of: input, service: "s").count <= LocalAPILimits.requestBytesMax })
        #expect(try InferCommand.requests(input, service: "s", batch: 1).count == rows)
        let huge = InferInput(rows: 1, featureCount: 20_000, features: Array(repeating: 0.333333, count: 20_000), labels: nil, labelNote: "")
        #expect(throws: CLIError.self) { try InferCommand.requests(huge, service: "s", batch: 1) }
    }

    @Test func percentilesAreNearestRank() {
        let values = (1...100).map(Double.init)
        #expect(InferReport.percentile(values, 50) == 50)
        #expect(InferReport.percentile(values, 90) == 90)
        #expect(InferReport.percentile(values, 99) == 99)
        #expect(InferReport.percentile(values, 100) == 100)
        #expect(InferReport.percentile([7], 99) == 7)
        #expect(InferReport.percentile([1, 2, 3], 50) == 2)
        #expect(InferReport.percentile([], 50) == 0)
    }

    @Test func theReportCountsPathsAccuracyHardShareAndFallbacks() throws {
        let input = InferInput(rows: 4, featureCount: 1, features: [0, 1, 2, 3], labels: [1, 0, 1, 1], labelNote: "labels: last column")
        func answer(_ scores: [Float], _ places: [String], reason: String? = nil) -> InferAnswer {
            InferAnswer(service: "s", classes: 2, scores: scores, computedAt: places, fallbackReason: reason, edgeVersion: 1,
                        cloudVersion: places.contains("cloud") ? 3 : nil)
        }
        let report = InferReport(service: "s", file: "f.csv", input: input, answered: [
            // Out of order on purpose: the report orders by example.
            .init(rows: 2..<4, answer: answer([0.2, 0.8, 0.6, 0.4], ["cloud", "edge-fallback"], reason: "cloud deadline passed"),
                  latencyMs: 30),
            .init(rows: 0..<2, answer: answer([0.1, 0.9, 0.7, 0.3], ["edge", "edge"]), latencyMs: 10),
        ])
        #expect(report.examples.map(\.index) == [0, 1, 2, 3])
        #expect(report.examples.map(\.predicted) == [1, 0, 1, 0])
        #expect(report.examples.map(\.score) == [0.9, 0.7, 0.8, 0.6])
        #expect(report.examples.map(\.correct) == [true, true, true, false])
        #expect(report.paths == ["edge": 2, "cloud": 1, "edge-fallback": 1])
        #expect(report.accuracy == 0.75 && report.correct == 3)
        #expect(report.hardShare == 0.5)
        #expect(report.fallbackReasons == ["cloud deadline passed": 1])
        #expect(report.latencyMs == InferReport.Latency(p50: 10, p90: 30, p99: 30, max: 30))
        #expect(report.edgeVersions == [1] && report.cloudVersions == [3] && report.largestRequest == 2)
        let text = report.text
        #expect(text.hasPrefix("labels: last column\nINDEX  CLASS  SCORE   AT             LABEL  CORRECT\n0      1      0.9000  edge"))
        #expect(text.contains("paths        edge 2, cloud 1, edge-fallback 1\n"))
        #expect(text.contains("accuracy     0.7500 (3 of 4 correct)\n"))
        #expect(text.contains("hard share   0.5000 (cloud + edge-fallback over all)\n"))
        #expect(text.contains("fallbacks    1 cloud deadline passed\n"))
        #expect(text.contains("latency      p50 10.0 ms, p90 30.0 ms, p99 30.0 ms, max 30.0 ms per request (at most 2 examples each)\n"))
        // --json: the same, one object, snake_case.
        let object = try #require(try JSONSerialization.jsonObject(with: Data(TaskCommand.json(report).utf8)) as? [String: Any])
        #expect(object["hard_share"] as? Double == 0.5 && object["accuracy"] as? Double == 0.75)
        let first = try #require((object["examples"] as? [[String: Any]])?.first)
        #expect(first["class"] as? Int == 1 && first["computed_at"] as? String == "edge" && first["latency_ms"] as? Double == 10)
        #expect((object["latency_ms"] as? [String: Double])?["p90"] == 30)
    }

    @Test func taskStatusOfAServiceShowsItsDeploymentNotRounds() throws {
        let node = String(repeating: "c", count: 64), cloud = String(repeating: "d", count: 64)
        var task = TaskReport(id: String(repeating: "a", count: 64), name: "digits-joint", kind: "JointInferenceService",
                              phase: "running", submitter: node, submittedAt: 1_795_788_893)
        #expect(TaskCommand.statusText(task, names: [:]).contains("deployment   none yet"))
        #expect(TaskCommand.progress(task) == "-")
        task.service = ServiceReport(
            version: 2, edgeModel: String(repeating: "1", count: 64), cloudModel: String(repeating: "2", count: 64),
            edgeModelName: "small", cloudModelName: "big", edgePeers: [.init(node: node, nodeName: "edge1", up: true)],
            cloudPeers: [.init(node: cloud, nodeName: "cloud", up: false)], hardExampleMining: "CrossEntropy",
            local: ServingReport(roles: ["edge"], versions: ["edge": 2], requests: 10, refused: 1,
                                 examples: ["edge": 8, "cloud": 2], hardExamples: 2, hardShare: 0.2, badScores: 0, cloudServed: 0,
                                 fallbackReasons: [:], latency: ["edge": ["p50_ms": 1.5, "p99_ms": 4, "count": 8],
                                                                 "cloud": ["p50_ms": 12, "p99_ms": 20, "count": 2]],
                                 openCircuits: [cloud]))
        let text = TaskCommand.statusText(task, names: [cloud: "cloud"])
        #expect(!text.contains("round") && !text.contains("participants") && !text.contains("committed"), "\(text)")
        for line in ["deployment   version 2\n", "edge model   small 1111111111111111\n", "cloud model  big 2222222222222222\n",
                     "edge peers   edge1 up\n", "cloud peers  cloud down\n", "mining       CrossEntropy\n",
                     "serving      edge version 2\n", "  requests       10 answered, 1 refused\n",
                     "  examples       edge 8, cloud 2\n", "  hard share     0.2000 (2 hard examples)\n",
                     "  fallbacks      none\n", "  latency        edge p50 1.5 ms p99 4.0 ms (8), cloud p50 12.0 ms p99 20.0 ms (2)\n",
                     "  open circuits  cloud\n"] {
            #expect(text.contains(line), "\(line) in \(text)")
        }
        #expect(TaskCommand.progress(task) == "v2")
    }
}
