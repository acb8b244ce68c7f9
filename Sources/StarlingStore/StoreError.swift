/// Why a store or file operation failed, naming the file or record involved.
public struct StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file, directory or record the problem is about.
    public let subject: String
    public let problem: String

    public init(_ subject: String, _ problem: String) {
        self.subject = subject
        self.problem = problem
    }

    public var description: String { "\(subject): \(problem)" }
}
