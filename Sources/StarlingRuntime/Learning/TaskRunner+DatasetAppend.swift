import StarlingLearning
import StarlingLocalAPI
import StarlingStore

/// `dataset-append` (docs/cli.md, "dataset append"): samples added to a registered dataset as an
/// arrival (`DatasetAppend`), then the dataset's new size declared in this peer's tags. Only the
/// size is gossiped; the rows stay here.
extension TaskRunnerCommands {
    func datasetAppend(name: String, path: String, format formatName: String?) -> DatasetAppendResponse {
        guard let store = runner.store else { return DatasetAppendResponse(ok: false, message: "this peer has no store") }
        guard Self.isLabel(name) else {
            return DatasetAppendResponse(ok: false, message: "a dataset name is a DNS-1123 label: 1-63 lowercase letters, digits and '-'")
        }
        guard path.hasPrefix("/") else { return DatasetAppendResponse(ok: false, message: "dataset-append needs \"path\": an absolute path") }
        let formatText = formatName ?? (path.hasSuffix(".npz") ? "npz" : "csv")
        guard let format = DatasetFormat(rawValue: formatText) else {
            return DatasetAppendResponse(ok: false, message: "unknown format \(formatText); known: csv, npz")
        }
        let outcome: DatasetAppend.Outcome
        do {
            outcome = try DatasetAppend.append(file: path, format: format, to: name, store: store, dataDirectory: runner.dataDirectory,
                                               now: UnixClock.now())
        } catch {
            return DatasetAppendResponse(ok: false, message: "\(error)")
        }
        runner.counters.increment("datasets.arrivals appended")
        let arrival = outcome.arrival, dataset = outcome.dataset
        var message = "dataset \(name): arrival \(arrival.sequence) added, \(Self.grouped(arrival.samples)) samples "
            + "(now \(Self.grouped(dataset.samples)) samples, \(dataset.classes) classes)"
        // The arrival is recorded: ok even when the new size is not declared yet (it is at the next
        // change or start), so a user never appends the same file twice to get it declared.
        let announced = announceStoreTags()
        if !announced.ok { message += "; NOT declared to the cluster yet: \(announced.message)" }
        return DatasetAppendResponse(
            ok: true, message: message, dataset: Dataset(dataset, arrivals: arrival.sequence),
            arrival: DatasetAppendResponse.Arrival(sequence: arrival.sequence, samples: arrival.samples, bytes: arrival.bytes,
                                                   arrivedAt: arrival.arrivedAt))
    }

    /// `1320` as `1,320`.
    static func grouped(_ number: UInt64) -> String {
        var digits = Array(String(number))
        var index = digits.count - 3
        while index > 0 {
            digits.insert(",", at: index)
            index -= 3
        }
        return String(digits)
    }
}
