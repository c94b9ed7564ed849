import Testing
import BatchLU

/// The README's example, verbatim, plus checks on what it computes.
@Test func readmeExample() throws {
    let a = try Tensor<Double>.random([64, 8, 8], seed: 1)          // 64 matrices, 8 × 8
    let b = try Tensor<Double>.random([64, 8, 2], seed: 2)
    let factors = try luFactor(a)                                     // packed LU, pivots, info
    let x = try luSolve(factors, b)                                   // A X = B, batched
    let (f, pullback) = try luFactorWithPullback(a)
    let gradLU = try Tensor<Double>.random(f.lu.shape, seed: 3)       // ∂loss/∂LU from upstream
    let gradA = try pullback(gradLU)                                  // ∂loss/∂A: two triangular solves
    let (sign, logAbsDet) = try slogdet(a)
    print(factors.execution!, x.shape, gradA.shape, sign.shape, logAbsDet.shape)

    #expect(x.shape == [64, 8, 2] && gradA.shape == [64, 8, 8] && sign.shape == [64])
    #expect(gradA == (try luFactorBackward(factors, gradLU)))
}
