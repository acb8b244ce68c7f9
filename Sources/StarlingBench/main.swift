// starling-bench: measurements of StarlingLearning, printed as one JSON line each.
//   starling-bench aggregate --updates N --parameters P [--repeat R] [--window W]
//   starling-bench digits [--rounds R] [--local-epochs E] [--epochs E] [--hidden H] [--mlp-rate-milli M]
//   starling-bench predict [--batch B] [--hidden H] [--repeat R]
// Benchmarks/learning/run compares the aggregation with numpy; docs/benchmarks.md has the figures.
// The work is in functions (Bench.swift): hot loops in top-level code are much slower.
Bench.main(Array(CommandLine.arguments.dropFirst()))
