import ArgumentParser

@main
struct Starling: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "starling",
        abstract: "A peer-to-peer cluster for AI at the edge.",
        discussion: """
            Every node runs the same peer. Nodes are admitted by a cluster authority that signs their \
            certificates; see docs/cli.md for every command and docs/security.md for the trust model.
            """,
        subcommands: [
            KeysCommand.self, AuthorityCommand.self, CertificateCommand.self, KeyringCommand.self,
            PeerCommand.self, MembersCommand.self, TaskCommand.self, InferCommand.self, DatasetCommand.self, ModelCommand.self,
            SimulateCommand.self, DemoCommand.self, WorkerCommand.self, ExecWorkerCommand.self,
        ])
}
