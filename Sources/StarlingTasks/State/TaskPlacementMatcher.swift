/// Which peers may run and coordinate a task, by their membership tags.
public enum TaskPlacementMatcher {
    /// `placed`: the peer has every `spec.placement` tag; `mayCoordinate`: it is placed and also has
    /// every `spec.coordinator` tag. (The `.coordinator` role is checked by the caller.)
    public static func matches(_ spec: TaskSpec, tags: [String: String]) -> (placed: Bool, mayCoordinate: Bool) {
        let placed = spec.placement.matches(tags)
        return (placed, placed && spec.coordinator.matches(tags))
    }
}
