import Foundation

/// Paths as a user types them: the peer runs elsewhere (its own working directory), so every path
/// a command sends it is made absolute first, relative to where the command runs.
enum CLIPath {
    /// `path` unchanged when absolute, else joined to the current directory (not normalised).
    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}
