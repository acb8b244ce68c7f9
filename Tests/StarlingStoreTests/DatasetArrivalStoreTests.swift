import Foundation
import GRDB
@testable import StarlingStore
import Testing

/// Arrivals of a dataset (`starling dataset append`): recorded with the dataset's totals in one
/// transaction, within limits, dropped with the dataset they belong to, and added to a store made
/// by an older build.
@Suite struct DatasetArrivalStoreTests {
    static let limits = DatasetArrivalLimits(arrivalsMax: 3, bytesMax: 10_000, samplesMax: 1_000)

    static func digits(samples: UInt64 = 100, bytes: UInt64 = 1_000, classes: UInt64 = 8) -> DatasetRecord {
        DatasetRecord(name: "digits", path: "/data/digits.csv", format: "csv", bytes: bytes, samples: samples, features: 64,
                      classes: classes, addedAt: 1)
    }

    static func arrival(_ sequence: UInt64, samples: UInt64 = 10, bytes: UInt64 = 100, dataset: String = "digits") -> DatasetArrival {
        DatasetArrival(dataset: dataset, sequence: sequence, path: "/peer/datasets/\(dataset)/arrival-\(sequence).csv", format: "csv",
                       samples: samples, bytes: bytes, arrivedAt: 10 + sequence)
    }

    @Test func anArrivalAndTheDatasetsTotalsAreRecordedTogetherAndKeptAcrossReopening() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let store = try Store(directory: directory)
            #expect(try store.nextArrivalSequence(of: "digits") == nil)
            try store.saveDataset(Self.digits())
            #expect(try store.nextArrivalSequence(of: "digits") == 1)
            let first = try store.appendArrival(Self.arrival(1), classes: 8, limits: Self.limits)
            #expect(first.samples == 110 && first.bytes == 1_100 && first.classes == 8)
            // An arrival may bring new classes; fewer never shrink the count.
            let second = try store.appendArrival(Self.arrival(2, samples: 20, bytes: 200), classes: 10, limits: Self.limits)
            #expect(second.samples == 130 && second.bytes == 1_300 && second.classes == 10)
            #expect(try store.appendArrival(Self.arrival(3), classes: 2, limits: Self.limits).classes == 10)
        }
        let reopened = try Store(directory: directory)
        #expect(try reopened.dataset(named: "digits") == DatasetRecord(
            name: "digits", path: "/data/digits.csv", format: "csv", bytes: 1_400, samples: 140, features: 64, classes: 10, addedAt: 1))
        #expect(try reopened.arrivals(of: "digits") == [Self.arrival(1), Self.arrival(2, samples: 20, bytes: 200), Self.arrival(3)])
        #expect(try reopened.arrivalCounts() == ["digits": 3])
        #expect(try reopened.nextArrivalSequence(of: "digits") == 4)
    }

    @Test func aRefusedArrivalChangesNothing() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try Store(directory: directory)
        #expect(throws: StoreError.self) { try store.appendArrival(Self.arrival(1), classes: 8, limits: Self.limits) }
        try store.saveDataset(Self.digits(samples: 990, bytes: 9_000))
        // Not the next sequence; past the bytes; past the rows.
        #expect(throws: StoreError.self) { try store.appendArrival(Self.arrival(2), classes: 8, limits: Self.limits) }
        #expect(throws: StoreError.self) { try store.appendArrival(Self.arrival(1, samples: 1, bytes: 1_001), classes: 8, limits: Self.limits) }
        #expect(throws: StoreError.self) { try store.appendArrival(Self.arrival(1, samples: 11, bytes: 1), classes: 8, limits: Self.limits) }
        #expect(try store.arrivals(of: "digits").isEmpty)
        #expect(try store.dataset(named: "digits") == Self.digits(samples: 990, bytes: 9_000))
        // Exactly at the limits is allowed; one arrival past arrivalsMax is not.
        try store.appendArrival(Self.arrival(1, samples: 10, bytes: 1_000), classes: 8, limits: Self.limits)
        let roomy = DatasetArrivalLimits(arrivalsMax: 1, bytesMax: .max, samplesMax: .max)
        #expect(throws: StoreError.self) { try store.appendArrival(Self.arrival(2), classes: 8, limits: roomy) }
        #expect(try store.arrivals(of: "digits").count == 1)
        #expect(try store.dataset(named: "digits")?.samples == 1_000)
    }

    @Test func replacingOrRemovingADatasetDropsItsArrivalsAndNamesTheirFiles() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try Store(directory: directory)
        #expect(try store.saveDataset(Self.digits()) == [])
        var other = Self.digits()
        other.name = "other"
        try store.saveDataset(other)
        for sequence in UInt64(1)...2 {
            try store.appendArrival(Self.arrival(sequence), classes: 8, limits: Self.limits)
            try store.appendArrival(Self.arrival(sequence, dataset: "other"), classes: 8, limits: Self.limits)
        }
        // `dataset add` of an existing name: the new file alone, numbering starts again.
        #expect(try store.saveDataset(Self.digits(samples: 50)) == [Self.arrival(1).path, Self.arrival(2).path])
        #expect(try store.dataset(named: "digits")?.samples == 50)
        #expect(try store.arrivals(of: "digits").isEmpty)
        #expect(try store.nextArrivalSequence(of: "digits") == 1)
        #expect(try store.arrivals(of: "other").count == 2, "another dataset's arrivals stay")

        #expect(try store.removeDataset(named: "other") == [Self.arrival(1, dataset: "other").path, Self.arrival(2, dataset: "other").path])
        #expect(try store.removeDataset(named: "other") == nil)
        #expect(try store.arrivalCounts().isEmpty)
        #expect(try store.datasets().map(\.name) == ["digits"])
    }

    /// A store written by a build before arrivals (migrated up to v5) keeps its datasets and gains
    /// the table, with none.
    @Test func aVersion5StoreIsMigratedWithItsDatasetsKept() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let pool = try DatabasePool(path: "\(directory)/\(Store.databaseFileName)")
            try StoreSchema.migrator.migrate(pool, upTo: "v5-imported-models")
            try pool.write { db in
                try db.execute(sql: """
                    INSERT INTO datasets (name, path, format, bytes, samples, features, classes, added_at)
                    VALUES ('digits', '/data/digits.csv', 'csv', 1000, 100, 64, 8, 1)
                    """)
            }
            #expect(try pool.read { try StoreSchema.migrator.appliedMigrations($0) }.last == "v5-imported-models")
        }
        let store = try Store(directory: directory)
        #expect(try store.appliedMigrations().last == "v6-dataset-arrivals")
        #expect(try store.datasets() == [Self.digits()])
        #expect(try store.arrivals(of: "digits").isEmpty)
        #expect(try store.appendArrival(Self.arrival(1), classes: 8, limits: Self.limits).samples == 110)
    }
}
