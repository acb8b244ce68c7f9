/// The workers built into the peer (Swift, no Python).
public enum BuiltinWorker: String, Sendable, CaseIterable {
    /// Logistic regression.
    case logreg
    /// A small multi-layer perceptron.
    case mlp

    public static let prefix = "builtin:"
}
