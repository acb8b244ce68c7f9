/// Every bound of an evaluation worker's run (docs/workers.md, "Evaluation workers
/// (IncrementalLearningJob)"): what a worker may make the peer read, and how long it may take.
public enum ModelEvaluationLimits {
    /// The largest result file read: a 256-class matrix of 20-digit counts for a few models fits.
    public static let outputBytesMax = 4 * 1024 * 1024
    /// Classes one confusion matrix may have (its rows and columns).
    public static let classesMax = 256
    /// How long a worker may run before it is killed and the evaluation failed (the caller may pass
    /// a shorter one, such as what is left of the stage's deadline).
    public static let timeout: Duration = .seconds(300)
}
