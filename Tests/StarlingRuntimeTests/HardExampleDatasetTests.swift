import Foundation
@testable import StarlingRuntime
import StarlingStore
import Testing

/// Hard examples kept for incremental learning: a dataset a job can use, its first batch the
/// registered file and each later batch an arrival, bounded (new rows dropped, old ones kept).
@Suite struct HardExampleDatasetTests {
    @Test func batchesBecomeTheRegisteredFileThenArrivals() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try Store(directory: directory)
        let kept = HardExampleDataset(name: "hard", store: store, dataDirectory: directory, now: { 5 })
        let batch = ServingLimits.hardExamplesBatchRows
        var written: [Int] = []
        for index in 0..<(2 * batch + 7) {
            let (outcome, batchWritten) = kept.append(features: [Float(index), 0.5][...], label: index % 3)
            #expect(outcome == .kept)
            if case let .success(rows)? = batchWritten { written.append(rows) }
        }
        #expect(written == [batch, batch], "a full batch is written at once")
        #expect(kept.buffered == 7)
        #expect(try kept.flush()?.get() == 7)
        #expect(kept.flush() == nil, "nothing left to write")

        let dataset = try #require(try store.dataset(named: "hard"))
        #expect(dataset.path == "\(directory)/datasets/hard/registered.csv" && dataset.format == "csv")
        #expect(dataset.samples == UInt64(2 * batch + 7) && dataset.features == 2 && dataset.classes == 3)
        #expect(try store.arrivals(of: "hard").map(\.samples) == [UInt64(batch), 7])
        let rows = try DatasetRows.load(dataset, arrivals: try store.arrivals(of: "hard"))
        #expect(rows.count == 2 * batch + 7)
        let inOrder = (0..<rows.count).allSatisfy { (row: Int) -> Bool in
            rows.features[row * 2] == Float(row) && rows.labels[row] == Int32(row % 3)
        }
        #expect(inOrder, "the file's rows, then each arrival's, in the order they came")

        // A row of another width than its batch is dropped.
        #expect(kept.append(features: [1, 2][...], label: 0).kept == .kept)
        #expect(kept.append(features: [1, 2, 3][...], label: 0).kept == .dropped)
    }

    @Test func aFullDatasetDropsNewRowsAndKeepsItsOldOnes() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try Store(directory: directory)
        // Registered by hand at one row under the bound.
        let path = "\(directory)/almost.csv"
        try "0,0,0\n".write(toFile: path, atomically: true, encoding: .utf8)
        try store.saveDataset(DatasetRecord(name: "hard", path: path, format: "csv", bytes: 6,
                                            samples: UInt64(ServingLimits.hardExamplesMax - 1), features: 2, classes: 1, addedAt: 1))
        let kept = HardExampleDataset(name: "hard", store: store, dataDirectory: directory)
        #expect(kept.append(features: [1, 1][...], label: 1).kept == .kept)
        #expect(kept.append(features: [2, 2][...], label: 1).kept == .dropped)
        #expect(try kept.flush()?.get() == 1)
        #expect(kept.append(features: [3, 3][...], label: 1).kept == .dropped)
        #expect(try store.dataset(named: "hard")?.samples == UInt64(ServingLimits.hardExamplesMax))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "0,0,0\n", "old rows are never rewritten")

        // A batch the dataset refuses (another feature count) is reported, and nothing is recorded.
        let other = HardExampleDataset(name: "narrow", store: store, dataDirectory: directory)
        #expect(other.append(features: [1, 2, 3][...], label: 0).kept == .kept)
        #expect(try other.flush()?.get() == 1)
        let wider = HardExampleDataset(name: "narrow", store: store, dataDirectory: directory)
        #expect(wider.append(features: [1, 2, 3, 4][...], label: 0).kept == .kept)
        guard case let .failure(error)? = wider.flush() else { Issue.record("a batch of another width is refused"); return }
        #expect(error.description.contains("dataset narrow has 3 features; the hard examples of narrow has 4"))
        #expect(try store.arrivals(of: "narrow").isEmpty)
    }
}
