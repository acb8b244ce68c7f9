extension SimulationReport {
    /// The human-readable report.
    public var rendered: String {
        var lines: [String] = []
        let verdict = passed ? "PASSED" : "FAILED (\(violations.count) violation\(violations.count == 1 ? "" : "s"))"
        lines.append("scenario \(scenario)  seed \(seed)  \(verdict)")
        lines.append("nodes \(honestNodes) honest + \(attackers) attacker(s), \(liveNodesAtEnd) live at the end; "
            + "\(seconds(simulatedSeconds)) simulated in \(seconds(wallSeconds)) wall; \(events) events "
            + "(\(formatDecimal(eventsPerWallSecond / 1e6, places: 3)) M/s); trace \(traceHash)")
        if !settings.isEmpty { lines.append("settings: " + settings.joined(separator: "; ")) }
        lines.append("")

        let headers = ["", "events", "50%", "99%", "99.99%", "100%"]
        var table: [[String]] = [headers]
        for (label, summary) in [("joins known (worst)", joins), ("crashes known (worst)", crashes)] where summary.count > 0 {
            table.append([label, "\(summary.completed)/\(summary.count)"] + summary.worstSeconds.map(timeAndRounds))
            table.append(["  median", ""] + summary.medianSeconds.map(timeAndRounds))
        }
        if table.count > 1 {
            lines.append("spread: time (gossip rounds of \(seconds(gossipIntervalSeconds))) until a fraction of live nodes know")
            lines += aligned(table)
            let slow = (joins.rows + crashes.rows).filter { !$0.abandoned }.sorted {
                ($0.seconds.last.flatMap { $0 } ?? .infinity) > ($1.seconds.last.flatMap { $0 } ?? .infinity)
            }.prefix(5)
            if joins.rows.count + crashes.rows.count > 1 {
                lines.append("slowest:")
                lines += aligned(slow.map { row in
                    ["  \(row.kind) \(row.node) at \(seconds(row.at))", ""] + row.seconds.map(timeAndRounds)
                })
            }
            lines.append("")
        }
        lines += renderedTasks
        var figures: [[String]] = []
        if detection.samples > 0 || detection.undetected > 0 {
            figures.append(["crash detection per observer", "p50 \(optional(detection.p50Seconds))  p99 \(optional(detection.p99Seconds))  "
                + "max \(optional(detection.maxSeconds))  (\(detection.samples) observations, \(detection.undetected) undetected"
                + (detection.boundSeconds.map { ", bound \(seconds($0))" } ?? "") + ")"])
        }
        figures.append(["false positives", "\(falsePositives.deadMarks) dead marks, \(falsePositives.suspectEvents) suspicions, "
            + "\(falsePositives.majorityEpisodes) majority verdicts against connected nodes "
            + "(\(falsePositives.failing ? "checked" : "measured only"); grace \(seconds(falsePositives.graceSeconds)))"])
        figures.append(["convergence", "healed at \(seconds(convergence.healAt)); "
            + (convergence.seconds.map { "converged after \(seconds($0))" } ?? "not converged")
            + " (bound \(seconds(convergence.boundSeconds)))"])
        let rate = traffic.bytesPerNodePerSecond.map { "\(formatDecimal($0, places: 1)) B/node/s" } ?? "n/a"
        figures.append(["traffic", "\(rate) from \(seconds(traffic.steadyStateFrom)) (\(traffic.totalHonestBytes) B in all)"])
        figures.append(["datagrams", "\(network.datagramsSent) sent, \(network.datagramsDelivered) delivered, \(network.lost) lost, "
            + "\(network.duplicated) duplicated, \(network.partitioned) cut, \(network.toDownNodes) to down nodes"
            + (network.oversized > 0 ? ", \(network.oversized) OVERSIZED" : "")])
        figures.append(["requests", "\(network.requests) sent, \(network.responses) answered, "
            + "\(network.exchangeFailures) failed, \(network.exchangeTimeouts) timed out, "
            + "\(network.streamRetransmissions) segments retransmitted"])
        lines += aligned(figures)
        let notable = counters.filter { $0.value > 0 }.sorted { $0.key < $1.key }
        if !notable.isEmpty {
            lines.append("counters: " + notable.prefix(40).map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        }
        if !violations.isEmpty {
            lines.append("")
            lines.append("violations:")
            lines += violations.map { "  " + $0.line }
            lines.append("")
            lines.append("reproduce: \(reproduce)")
        }
        return lines.joined(separator: "\n")
    }

    private func seconds(_ value: Double) -> String { formatDecimal(value, places: 3) + "s" }

    private func optional(_ value: Double?) -> String { value.map(seconds) ?? "-" }

    private func timeAndRounds(_ value: Double?) -> String {
        guard let value else { return "-" }
        guard gossipIntervalSeconds > 0 else { return seconds(value) }
        return "\(seconds(value)) (\(formatDecimal(value / gossipIntervalSeconds, places: 1)))"
    }

    private func aligned(_ rows: [[String]]) -> [String] {
        guard let columns = rows.map(\.count).max() else { return [] }
        var widths = [Int](repeating: 0, count: columns)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
            }.joined(separator: "  ")
        }
    }
}
