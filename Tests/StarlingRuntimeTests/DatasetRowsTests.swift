import Foundation
@testable import StarlingRuntime
import StarlingLearning
import StarlingStore
import StarlingTasks
import Testing

/// A dataset with arrivals as workers are handed it (`DatasetRows`): the file's rows then each
/// arrival's, a watermark, parts that partition the rows exactly as `ArrivalSplit` draws them.
@Suite struct DatasetRowsTests {
    /// A dataset `digits` of 2 features: a CSV file of 5 rows (value = row index), then arrivals
    /// of 3 rows (npz-free CSV) and 4 rows, the second bringing class 5.
    static func fixture(_ directory: String) throws -> (DatasetRecord, [DatasetArrival]) {
        func write(_ rows: Range<Int>, label: (Int) -> Int, to name: String) throws -> String {
            let path = "\(directory)/\(name)"
            let text = rows.map { "\($0),\(-$0),\(label($0))\n" }.joined()
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let file = try write(0..<5, label: { $0 % 3 }, to: "file.csv")
        let first = try write(5..<8, label: { $0 % 3 }, to: "arrival-1.csv")
        let second = try write(8..<12, label: { _ in 5 }, to: "arrival-2.csv")
        let dataset = DatasetRecord(name: "digits", path: file, format: "csv", bytes: 0, samples: 12, features: 2, classes: 6, addedAt: 1)
        // Given out of order: the sequence decides.
        return (dataset, [DatasetArrival(dataset: "digits", sequence: 2, path: second, format: "csv", samples: 4, bytes: 0, arrivedAt: 3),
                          DatasetArrival(dataset: "digits", sequence: 1, path: first, format: "csv", samples: 3, bytes: 0, arrivedAt: 2)])
    }

    static func indices(_ data: LabeledData) -> [Int] { (0..<data.count).map { Int(data.features[$0 * 2]) } }

    @Test func theFileComesFirstThenEachArrivalInOrderUpToTheWatermark() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (dataset, arrivals) = try Self.fixture(directory)
        let all = try DatasetRows.load(dataset, arrivals: arrivals)
        #expect(Self.indices(all) == Array(0..<12))
        #expect(all.classCount == 6 && all.featureCount == 2)
        #expect(all.labels.suffix(4) == [5, 5, 5, 5])
        #expect(Self.indices(try DatasetRows.load(dataset, arrivals: arrivals, selection: .init(watermark: 7))) == Array(0..<7))
        #expect(try DatasetRows.load(dataset, arrivals: arrivals, selection: .init(watermark: 0)).count == 0)
        #expect(Self.indices(try DatasetRows.load(dataset, arrivals: arrivals, selection: .init(watermark: 99))) == Array(0..<12))
        // Past the watermark, files are not read: a missing later arrival is no error.
        var gone = arrivals
        gone[0].path = "\(directory)/missing.csv"
        #expect(try DatasetRows.load(dataset, arrivals: gone, selection: .init(watermark: 8)).count == 8)
        #expect(throws: RuntimeError.self) { try DatasetRows.load(dataset, arrivals: gone) }
    }

    @Test func trainAndEvalPartitionTheRowsAsArrivalSplitDrawsThem() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (dataset, arrivals) = try Self.fixture(directory)
        for watermark: UInt64? in [nil, 10] {
            let train = try DatasetRows.load(dataset, arrivals: arrivals,
                                             selection: .init(watermark: watermark, part: .train, trainProbability: 0.6))
            let eval = try DatasetRows.load(dataset, arrivals: arrivals,
                                            selection: .init(watermark: watermark, part: .eval, trainProbability: 0.6))
            let rows = 0..<(watermark ?? 12)
            #expect(Self.indices(train).map(UInt64.init) == ArrivalSplit.rows(.train, dataset: "digits", rows: rows, trainProbability: 0.6))
            #expect(Self.indices(eval).map(UInt64.init) == ArrivalSplit.rows(.eval, dataset: "digits", rows: rows, trainProbability: 0.6))
            #expect(Set(Self.indices(train)).isDisjoint(with: Self.indices(eval)))
            #expect((Self.indices(train) + Self.indices(eval)).sorted() == rows.map { Int($0) })
            #expect(UInt64(train.count) == ArrivalSplit.trainingCount(dataset: "digits", rows: rows, trainProbability: 0.6))
        }
        let everything = try DatasetRows.load(dataset, arrivals: arrivals, selection: .init(part: .train, trainProbability: 1))
        #expect(everything.count == 12)
    }

    @Test func materializeWritesTheSelectionAsCSVThatReadsBack() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (dataset, arrivals) = try Self.fixture(directory)
        let path = "\(directory)/out/train.csv"
        try FileManager.default.createDirectory(atPath: "\(directory)/out", withIntermediateDirectories: true)
        let selection = DatasetRows.Selection(watermark: 11, part: .train, trainProbability: 0.5)
        let count = try DatasetRows.materialize(dataset, arrivals: arrivals, selection: selection, to: path)
        let written = try DatasetFile.decode([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), format: .csv)
        let expected = try DatasetRows.load(dataset, arrivals: arrivals, selection: selection)
        #expect(count == expected.count && written.features == expected.features && written.labels == expected.labels)
    }

    @Test func aFileOfAnotherWidthIsRefusedNamingIt() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var (dataset, arrivals) = try Self.fixture(directory)
        try "1,2,3,0\n".write(toFile: arrivals[1].path, atomically: true, encoding: .utf8)
        #expect { try DatasetRows.load(dataset, arrivals: arrivals) } throws: { error in
            "\(error)" == "dataset digits has 2 features; \(arrivals[1].path) has 3"
        }
        dataset.features = 3
        #expect(throws: RuntimeError.self) { try DatasetRows.load(dataset, arrivals: []) }
    }

    /// A worker of a dataset with arrivals reads one CSV of all its rows in its work directory;
    /// without arrivals, the registered file as it is.
    @Test func aWorkerIsHandedTheWholeDatasetWhenItHasArrivals() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (dataset, arrivals) = try Self.fixture(directory)
        #expect(try WorkerLaunch.whole(dataset, arrivals: [], in: directory) == dataset)
        let whole = try WorkerLaunch.whole(dataset, arrivals: arrivals, in: directory)
        #expect(whole.path == "\(directory)/dataset-digits.csv" && whole.format == "csv")
        let read = try DatasetFile.decode([UInt8](try Data(contentsOf: URL(fileURLWithPath: whole.path))), format: .csv)
        #expect(Self.indices(read) == Array(0..<12))
    }
}
