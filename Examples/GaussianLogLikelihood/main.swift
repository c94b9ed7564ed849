// Maximum-likelihood covariance fitting by gradient descent, through
// BatchLU's differentiable LU layer (LUDiff).
//
// For each of `batch` independent data sets X_b (n × samples, zero mean), the
// model is a Gaussian N(0, Σ_b) with Σ_b = A_b A_bᵀ + εI (positive definite
// for every A_b). The negative log-likelihood per sample, summed over the
// batch, is
//
//     loss(A) = Σ_b ½ [ log det Σ_b + tr(Σ_b⁻¹ X_b X_bᵀ) / samples + n log 2π ]
//
// One LU factorization of each Σ_b feeds both terms: slogdet reads its
// diagonal and luSolve computes Σ_b⁻¹ X_b. Reverse-mode AD through them (the
// pullbacks are BatchLU's two-solve backward functions) gives ∂loss/∂A for the
// whole batch at once. The optimum is Σ_b = S_b, the sample covariance, with
// loss* = Σ_b ½ [ log det S_b + n + n log 2π ].
import _Differentiation
import BatchLU
import Foundation

let batch = 4, n = 3, samples = 400
let epsilon = 0.1

/// Seeded standard normals (Box–Muller over BatchLU's reproducible uniforms).
func normals(_ shape: [Int], seed: UInt64) throws -> Tensor<Double> {
    let count = shape.reduce(1, *)
    let u = try Tensor<Double>.random([2 * count], seed: seed).elements.map { ($0 + 1) / 2 }   // [0, 1)
    let z = (0..<count).map { i in (-2 * log(1 - u[2 * i])).squareRoot() * cos(2 * Double.pi * u[2 * i + 1]) }
    return try Tensor(shape: shape, elements: z)
}

// Data: X_b = C_b Z_b with a known, diagonally dominant mixing matrix C_b per
// data set, so every sample covariance is well above εI and the optimum is
// reachable.
let mixing = try 0.5 * Tensor<Double>.random([batch, n, n], seed: 7) + 1.5 * Tensor<Double>.identity(n, batch: [batch])
let x = LUDiff.matmul(mixing, try normals([batch, n, samples], seed: 8))
let epsI = epsilon * (try Tensor<Double>.identity(n, batch: [batch]))
let logTwoPi = log(2 * Double.pi)

@differentiable(reverse)
func negativeLogLikelihood(_ a: Tensor<Double>) -> Double {
    let sigma = LUDiff.matmul(a, a.adjoint()) + epsI          // [batch, n, n], positive definite
    let factors = LUDiff.luFactor(sigma)                        // one factorization ...
    let logDet = LUDiff.slogdet(factors).logAbsDet              // ... gives log det Σ  [batch]
    let sigmaInvX = LUDiff.luSolve(factors, x)                  // ... and Σ⁻¹ X        [batch, n, samples]
    let trace = (x * sigmaInvX).sum() / Double(samples)         // Σ_b tr(Σ_b⁻¹ X_b X_bᵀ) / samples
    return 0.5 * (logDet.sum() + trace + Double(batch * n) * logTwoPi)
}

// The optimum, from the sample covariances S_b = X_b X_bᵀ / samples.
let sampleCov = (1.0 / Double(samples)) * LUDiff.matmul(x, x.adjoint())
let (_, logDetS) = try slogdet(sampleCov)
let optimum = 0.5 * (logDetS.elements.reduce(0, +) + Double(batch * n) * (1 + logTwoPi))

var a = try Tensor<Double>.identity(n, batch: [batch])          // start from Σ = (1 + ε) I
let learningRate = 0.1
print("Gaussian log-likelihood: \(batch) covariance matrices \(n) × \(n), \(samples) samples each")
print("step   loss          loss − optimum")
var previous = Double.infinity
for step in 0...100 {
    let (loss, grad) = valueWithGradient(at: a, of: negativeLogLikelihood)
    if step % 10 == 0 {
        print(String(format: "%4d   %-12.6f  %.3e", step, loss, loss - optimum))
    }
    precondition(loss <= previous + 1e-12, "the loss went up at step \(step)")
    previous = loss
    a.move(by: -learningRate * grad)
}
print(String(format: "optimum %.6f (log-likelihood %.6f)", optimum, -optimum))
