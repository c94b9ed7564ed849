// bench-gpu, first version: times the forward factorization and its
// backward on the CPU backend for a few shapes and prints GFLOP/s
// (LAWN 41 flop count). The full benchmark (grid, peers, JSON) is its own issue.
import BatchLU
import ComplexModule
import Foundation

struct Row { let batch: Int; let n: Int }

func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s[s.count / 2] }

/// Median seconds of `body` over repeats after one warm-up, capped at ~2 s per row.
func time(_ body: () throws -> Void) rethrows -> Double {
    try body()
    var samples = [Double]()
    let start = Date()
    while samples.count < 3 || (samples.count < 25 && Date().timeIntervalSince(start) < 2) {
        let t0 = DispatchTime.now().uptimeNanoseconds
        try body()
        samples.append(Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9)
    }
    return median(samples)
}

func run<T: LUScalar>(_: T.Type, rows: [Row]) throws {
    print("\n\(T.typeName)   batch x n         fwd ms    GFLOP/s     bwd ms   path")
    for r in rows {
        let a = try Tensor<T>.random([r.batch, r.n, r.n], seed: 1)
        let g = try Tensor<T>.random([r.batch, r.n, r.n], seed: 2)
        var f = try luFactorEx(a, backend: .cpu)
        let tf = try time { f = try luFactorEx(a, backend: .cpu) }
        let tb = try time { _ = try luFactorBackward(f, g, backend: .cpu) }
        let flops = Double(r.batch) * FlopCount.getrf(m: r.n, n: r.n, complex: T.isComplex)
        let label = "\(r.batch) x \(r.n)".padding(toLength: 14, withPad: " ", startingAt: 0)
        print(String(format: "       %@ %9.3f %10.2f %10.3f   %@", label, tf * 1e3, flops / tf * 1e-9, tb * 1e3,
                     f.execution?.description ?? "?"))
    }
}

let quick = CommandLine.arguments.contains("--quick")
let rows: [Row] = quick
    ? [Row(batch: 10000, n: 8), Row(batch: 500, n: 64), Row(batch: 4, n: 512)]
    : [Row(batch: 100000, n: 8), Row(batch: 10000, n: 32), Row(batch: 2000, n: 64), Row(batch: 500, n: 128),
       Row(batch: 20, n: 512), Row(batch: 1, n: 2048)]
let cores = ProcessInfo.processInfo.activeProcessorCount
print("bench-gpu (first version): CPU backend only")
print("OpenBLAS core: \(CPUBackend.openBLASCoreName), cores: \(cores), OPENBLAS_CORETYPE=\(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "(unset)")")
#if DEBUG
print("WARNING: debug build; time with `swift run -c release bench-gpu`")
#endif
try run(Double.self, rows: rows)
try run(Float.self, rows: rows)
if CommandLine.arguments.contains("--complex") {
    try run(Complex<Double>.self, rows: rows)
}
