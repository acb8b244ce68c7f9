import Foundation
@testable import StarlingRuntime
import StarlingStore
import Testing

/// `dataset append` below the local API (`DatasetAppend`): a checked file is copied durably and
/// recorded; a refused one leaves no file and no row; files without a record are removed at start.
@Suite struct DatasetAppendTests {
    static func setUp(_ directory: String) throws -> Store {
        let store = try Store(directory: "\(directory)/data")
        try "a,b,label\n1,2,0\n3,4,1\n".write(toFile: "\(directory)/file.csv", atomically: true, encoding: .utf8)
        try store.saveDataset(DatasetRecord(name: "pairs", path: "\(directory)/file.csv", format: "csv", bytes: 22, samples: 2,
                                            features: 2, classes: 2, addedAt: 1))
        return store
    }

    static func append(_ text: String, _ store: Store, _ directory: String) throws -> DatasetAppend.Outcome {
        let path = "\(directory)/new-\(UUID().uuidString.prefix(6)).csv"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return try DatasetAppend.append(file: path, format: .csv, to: "pairs", store: store, dataDirectory: "\(directory)/data", now: 7)
    }

    @Test func anArrivalIsCopiedThenRecordedWithTheNewTotals() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try Self.setUp(directory)
        let outcome = try Self.append("5,6,2\n7,8,0\n9,9,1\n", store, directory)
        #expect(outcome.arrival.sequence == 1 && outcome.arrival.samples == 3 && outcome.arrival.bytes == 18)
        #expect(outcome.arrival.path == "\(directory)/data/datasets/pairs/arrival-1.csv")
        #expect(try String(contentsOfFile: outcome.arrival.path, encoding: .utf8) == "5,6,2\n7,8,0\n9,9,1\n")
        #expect(outcome.dataset.samples == 5 && outcome.dataset.bytes == 40 && outcome.dataset.classes == 3)
        #expect(try store.arrivals(of: "pairs") == [outcome.arrival])
        #expect(try Self.append("1,1,0\n", store, directory).arrival.sequence == 2)
        #expect(try String(contentsOfFile: "\(directory)/file.csv", encoding: .utf8) == "a,b,label\n1,2,0\n3,4,1\n",
                "the registered file is never touched")
    }

    @Test func aRefusedAppendLeavesNoFileAndNoRow() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try Self.setUp(directory)
        func refusal(_ text: String) -> String {
            do {
                _ = try Self.append(text, store, directory)
                return "appended"
            } catch {
                return "\(error)"
            }
        }
        #expect(refusal("1,2,3,0\n").hasPrefix("dataset pairs has 2 features; \(directory)/new-"))
        #expect(refusal("1,2,3,0\n").hasSuffix(".csv has 3"))
        #expect(refusal("").contains("CSV: no data rows"))
        #expect(refusal("1,2,0\n1,x,0\n").contains("is not a finite number"))
        #expect(throws: RuntimeError.self) {
            try DatasetAppend.append(file: "\(directory)/missing.csv", format: .csv, to: "pairs", store: store,
                                     dataDirectory: "\(directory)/data", now: 7)
        }
        #expect(throws: RuntimeError.self) {
            try DatasetAppend.append([UInt8]("1,2,0\n".utf8), format: .csv, from: "x", to: "unknown", store: store,
                                     dataDirectory: "\(directory)/data", now: 7)
        }
        #expect(throws: RuntimeError.self) {
            try DatasetAppend.append([UInt8]("1,2,0\n".utf8), format: .npz, from: "x", to: "pairs", store: store,
                                     dataDirectory: "\(directory)/data", now: 7)
        }
        // The limits are checked before any copy.
        var full = try #require(try store.dataset(named: "pairs"))
        full.samples = DatasetLimits.rowsMax
        #expect(throws: RuntimeError.self) { try DatasetAppend.check(full, adding: 1, bytes: 1, sequence: 1) }
        full.samples = 1
        full.bytes = DatasetLimits.bytesMax
        #expect(throws: RuntimeError.self) { try DatasetAppend.check(full, adding: 1, bytes: 1, sequence: 1) }
        #expect(throws: RuntimeError.self) { try DatasetAppend.check(full, adding: 1, bytes: 0, sequence: DatasetLimits.arrivalsMax + 1) }

        #expect(try store.arrivals(of: "pairs").isEmpty)
        #expect(try store.dataset(named: "pairs")?.samples == 2)
        let folder = "\(directory)/data/datasets/pairs"
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).isEmpty)
    }

    @Test func filesWithoutARecordAreRemovedAtStartAndDroppedArrivalsFilesGo() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try Self.setUp(directory)
        let kept = try Self.append("5,6,2\n", store, directory).arrival.path
        // What a crash between copy and record leaves: a copy (and a temporary file) with no row.
        let folder = "\(directory)/data/datasets/pairs"
        for orphan in ["arrival-2.csv", ".arrival-3.csv.tmp-1-2"] { try "1,1,0\n".write(toFile: "\(folder)/\(orphan)", atomically: false, encoding: .utf8) }
        #expect(try DatasetAppend.removeUnrecorded(store: store, dataDirectory: "\(directory)/data") == 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["arrival-1.csv"])
        // The next append takes sequence 2 anyway (a leftover at its path would be replaced).
        #expect(try Self.append("1,1,0\n", store, directory).arrival.sequence == 2)

        DatasetAppend.removeFiles(try #require(try store.removeDataset(named: "pairs")))
        #expect(!FileManager.default.fileExists(atPath: kept))
        #expect(!FileManager.default.fileExists(atPath: folder), "its emptied directory goes too")
    }
}
