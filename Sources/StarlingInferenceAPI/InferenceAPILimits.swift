/// Every bound of the inference endpoint's messages, in one place.
public enum InferenceAPILimits {
    /// A request body larger than this is refused with 413 before it is read whole.
    public static let requestBytesMax = 8 << 20
    /// Values in one request, all inputs together.
    public static let elementsMax = 1 << 20
    /// Examples (rows) in one request.
    public static let batchMax = 4_096
    /// Nesting of a tensor's `data` arrays.
    public static let nestingMax = 8
    /// Inputs in one request.
    public static let inputsMax = 16
}
