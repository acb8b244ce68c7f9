import ArgumentParser
import Foundation
import StarlingLocalAPI
import StarlingRuntime

struct MembersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "members",
        abstract: "List the cluster's members as a running peer sees them.",
        discussion: """
            Asks the peer serving DIR over its local API (DIR/starling.sock). DIR is --peer, else \
            $\(dataDirectoryVariable), else the current directory. The table shows NAME, NODE (the \
            first 16 hex characters of the NodeID), ADDRESS, STATE, INCARNATION and TAGS, this node \
            first; --json prints the peer's answer as it is (with the full NodeID and a "local" flag).
            """)

    static let dataDirectoryVariable = "STARLING_DATA_DIR"

    /// The peer's data directory: `--peer`, else $STARLING_DATA_DIR, else the current directory
    /// (every command that talks to a running peer resolves it this way).
    static func dataDirectory(_ peer: String?) -> String {
        peer ?? ProcessInfo.processInfo.environment[dataDirectoryVariable] ?? "."
    }

    @Option(name: .long, help: "The peer's data directory (default: $\(MembersCommand.dataDirectoryVariable), else .).")
    var peer: String?

    @Flag(name: .long, help: "Print the raw JSON answer.")
    var json = false

    func run() throws {
        let directory = Self.dataDirectory(peer)
        let (line, response) = try PeerRequest.send(.members, to: directory, as: MembersResponse.self)
        if json {
            print(String(decoding: line, as: UTF8.self))
            return
        }
        print(Self.table(response.members), terminator: "")
    }

    /// Aligned columns, this node first, then by name.
    static func table(_ members: [Member]) -> String {
        let sorted = members.sorted { ($0.local ? 0 : 1, $0.name, $0.node) < ($1.local ? 0 : 1, $1.name, $1.node) }
        var rows = [["NAME", "NODE", "ADDRESS", "STATE", "INCARNATION", "TAGS"]]
        for member in sorted {
            rows.append([
                member.name, String(member.node.prefix(16)), member.address, member.state,
                String(member.incarnation),
                member.tags.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","),
            ])
        }
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces) + "\n"
        }.joined()
    }
}
