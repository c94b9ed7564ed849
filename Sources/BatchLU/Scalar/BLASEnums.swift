import COpenBLAS

// Mapping of BatchLU's triangular-solve flags onto CBLAS enums. Every BLAS
// call BatchLU makes is row-major.
extension TriSide {
    @usableFromInline var cblas: CBLAS_SIDE { self == .left ? CblasLeft : CblasRight }
}
extension TriUplo {
    @usableFromInline var cblas: CBLAS_UPLO { self == .upper ? CblasUpper : CblasLower }
}
extension TriTrans {
    @usableFromInline var cblas: CBLAS_TRANSPOSE {
        switch self {
        case .none: return CblasNoTrans
        case .transpose: return CblasTrans
        case .adjoint: return CblasConjTrans
        }
    }
}
extension TriDiag {
    @usableFromInline var cblas: CBLAS_DIAG { self == .unit ? CblasUnit : CblasNonUnit }
}

@inline(__always) func blasInt(_ v: Int) -> Int32 {
    precondition(v <= Int(Int32.max), "BLAS dimension \(v) exceeds 32-bit range")
    return Int32(truncatingIfNeeded: v)
}
